using System.Text.Json;
using System.Text.Json.Nodes;
using AlignCluster.Grains.Configuration;
using AlignCluster.Models;
using AlignCluster.Models.Tokenization;
using DataMessage = AlignCluster.Alignment.Data.ChatMessage;

namespace AlignCluster.Grains.Demo;

/// <summary>
/// How a Hugging Face model directory (<c>policy.kind: hf</c>) turns preference texts into token ids, read without
/// loading the weights: tokenizer.json, tokenizer_config.json's special tokens and chat template, config.json's
/// vocab_size. The rules (the same ones <see cref="LanguageModel"/> uses to score and generate):
/// <list type="bullet">
/// <item>a conversational prompt (TRL message list) is rendered with the chat template, ending with the assistant
/// header;</item>
/// <item>a plain prompt is encoded as it is, with the special tokens the tokenizer's post-processor adds (BOS for
/// Llama-style tokenizers, none for GPT-2); an empty prompt becomes [BOS] (or [EOS]) so the response has
/// context;</item>
/// <item>a response (text, or one assistant message) is its tokens followed by the end token: the template's
/// end-of-turn token for ChatML / Llama-3, EOS otherwise.</item>
/// </list>
/// </summary>
public sealed class ModelTextCodec
{
    private readonly Tokenizer _tokenizer;
    private readonly ChatTemplate _template;
    private readonly int? _startId; // what an empty prompt becomes

    private ModelTextCodec(
        string directory,
        Tokenizer tokenizer,
        ChatTemplate template,
        int vocabSize,
        int endId,
        int? startId,
        int? maxPositions
    )
    {
        Directory = directory;
        _tokenizer = tokenizer;
        _template = template;
        VocabSize = vocabSize;
        EndId = endId;
        _startId = startId;
        MaxPositions = maxPositions;
    }

    /// <summary>The model directory (absolute).</summary>
    public string Directory { get; }

    /// <summary>config.json's vocab_size: every id must be below it.</summary>
    public int VocabSize { get; }

    /// <summary>The token every response ends with.</summary>
    public int EndId { get; }

    /// <summary>Learned positions (GPT-2's n_positions) bound prompt + response; null for RoPE models.</summary>
    public int? MaxPositions { get; }

    /// <summary>Reads the directory's text side; a missing or mismatched file is a <see cref="ConfigException"/> naming
    /// it.</summary>
    public static ModelTextCodec Load(string directory)
    {
        directory = Path.GetFullPath(directory);
        try
        {
            var config = ModelConfig.Load(Path.Combine(directory, "config.json"));
            if (
                !File.Exists(Path.Combine(directory, "tokenizer.json"))
                && !File.Exists(Path.Combine(directory, "vocab.json"))
            )
                throw new ConfigException(
                    $"policy.path: {Path.Combine(directory, "tokenizer.json")} not found: the hf policy encodes its data with the model's own tokenizer"
                );
            var tokenizer = LanguageModel.LoadTokenizer(directory);
            if (tokenizer.VocabSize > config.VocabSize)
                throw new ConfigException(
                    $"policy.path: {Path.Combine(directory, "tokenizer.json")} has {tokenizer.VocabSize} ids but "
                        + $"{Path.Combine(directory, "config.json")} has vocab_size {config.VocabSize}: the tokenizer does not belong to this model"
                );
            string tokenizerConfigPath = Path.Combine(directory, "tokenizer_config.json");
            JsonObject? tokenizerConfig;
            try
            {
                tokenizerConfig = SpecialTokens.ReadJsonFile(tokenizerConfigPath);
            }
            catch (JsonException e)
            {
                throw new ConfigException($"policy.path: {tokenizerConfigPath}: malformed JSON: {e.Message}", e);
            }

            var special = SpecialTokens.Resolve(
                config,
                tokenizer,
                tokenizerConfig,
                templateSource: tokenizerConfigPath
            ); // as LanguageModel
            var template = special.Template;
            if (special.ResponseEndId is not { } end)
                throw new ConfigException(
                    $"policy.path: {directory}: the model defines no end-of-sequence token "
                        + $"(tokenizer_config.json eos_token / config.json eos_token_id{(template.Format is ChatFormat.ChatMl or ChatFormat.Llama3 ? $", or '{template.EndOfTurn}' in tokenizer.json" : "")})"
                );
            int? positions = config.Family == ModelFamily.Gpt2 ? config.MaxPositions : null;
            return new ModelTextCodec(
                directory,
                tokenizer,
                template,
                config.VocabSize,
                end,
                special.BosId ?? special.EosId,
                positions
            );
        }
        catch (Exception e) when (e is ModelLoadException or TokenizerException)
        {
            throw new ConfigException($"policy.path: {e.Message}", e);
        }
    }

    /// <summary>
    /// Checks, without loading them, that the directory's weights fit its config.json (every tensor present with its
    /// shape, per <see cref="WeightLayout.Resolve"/>), so a broken model directory is refused before a run starts.
    /// </summary>
    public static void CheckWeights(string directory)
    {
        directory = Path.GetFullPath(directory);
        try
        {
            var config = ModelConfig.Load(Path.Combine(directory, "config.json"));
            using var checkpoint = Models.SafeTensors.SafeTensorsCheckpoint.Open(directory);
            WeightLayout.Resolve(config, checkpoint);
        }
        catch (Exception e) when (e is ModelLoadException or Models.SafeTensors.SafeTensorsException)
        {
            throw new ConfigException($"policy.path: {e.Message}", e);
        }
    }

    /// <summary>Prompt ids: messages through the chat template, a plain text as it is (see the class rules).</summary>
    /// <exception cref="ArgumentException">The model's chat template refuses the conversation.</exception>
    public int[] EncodePrompt(string? text, IReadOnlyList<DataMessage>? messages)
    {
        List<int> ids;
        try
        {
            ids = messages is not null
                ? _tokenizer.Encode(
                    _template.Prompt(messages.Select(m => new ChatMessage(m.Role, m.Content)).ToList()),
                    addSpecialTokens: !_template.PromptHasSpecialTokens
                )
                : _tokenizer.Encode(text ?? "", addSpecialTokens: true);
        }
        catch (FormatException e)
        {
            throw new ArgumentException(e.Message, e);
        } // reported with the record's file:line
        if (ids.Count == 0 && _startId is { } start)
            ids.Add(start);
        return [.. ids];
    }

    /// <summary>Response ids: the text (or the one assistant message's content) and the end token.</summary>
    /// <exception cref="ArgumentException">Messages that are not exactly one assistant turn.</exception>
    public int[] EncodeResponse(string? text, IReadOnlyList<DataMessage>? messages)
    {
        if (messages is not null && (messages.Count != 1 || messages[0].Role != "assistant"))
            throw new ArgumentException(
                $"a conversational response must be exactly one assistant message, got roles [{string.Join(", ", messages.Select(m => m.Role))}]"
            );
        return [.. _tokenizer.Encode(messages?[0].Content ?? text ?? "", addSpecialTokens: false), EndId];
    }

    /// <summary>The first id that is not below config.json's vocab_size, or null (a tokenizer/model mismatch shows
    /// here).</summary>
    public int? OutOfVocabulary(int[] ids) =>
        ids.Any(i => i < 0 || i >= VocabSize) ? ids.First(i => i < 0 || i >= VocabSize) : null;
}
