using System.Text.Json;
using System.Text.Json.Nodes;

namespace AlignCluster.Models.Tokenization;

/// <summary>
/// A model directory's special tokens and chat template, resolved in one place from tokenizer_config.json,
/// generation_config.json and config.json, so <see cref="LanguageModel"/> (which scores and generates) and the
/// cluster's text codec (which encodes datasets without loading weights) can never disagree about them.
/// </summary>
public sealed class SpecialTokens
{
    public int? BosId { get; private init; }
    public int? EosId { get; private init; }

    /// <summary>Id used for padding (pad token, else EOS, else 0); padded positions are always masked.</summary>
    public int PadId { get; private init; }
    public required ChatTemplate Template { get; init; }

    /// <summary>Ids that end generation: EOS ids from every config file plus the template's end-of-turn
    /// token.</summary>
    public IReadOnlyList<int> StopTokenIds { get; private init; } = [];

    /// <summary>The token a response ends with: the template's end-of-turn token when it is one token, else EOS (null:
    /// none defined).</summary>
    public int? ResponseEndId { get; private init; }

    /// <summary>
    /// Resolves the tokens: BOS/EOS/pad from tokenizer_config.json (text looked up in the tokenizer), else
    /// config.json's
    /// ids (EOS also falls back to "&lt;|endoftext|&gt;"); the template from tokenizer_config.json's chat_template,
    /// rendered
    /// by our Jinja subset (a template it cannot render is an error, not a fallback).
    /// </summary>
    /// <exception cref="ModelLoadException">The chat template cannot be rendered (named by <paramref
    /// name="templateSource"/>).</exception>
    public static SpecialTokens Resolve(
        ModelConfig config,
        Tokenizer tokenizer,
        JsonObject? tokenizerConfig,
        JsonObject? generationConfig = null,
        string templateSource = "tokenizer_config.json"
    )
    {
        int? IdOf(string? token) => token is null ? null : tokenizer.TokenToId(token);
        string? bosText = TokenText(tokenizerConfig?["bos_token"]),
            eosText = TokenText(tokenizerConfig?["eos_token"]);
        int? bosId = IdOf(bosText) ?? config.BosTokenId;
        int? eosId = IdOf(eosText)
            ?? (config.EosTokenIds.Count > 0 ? config.EosTokenIds[0] : (int?)null)
            ?? IdOf("<|endoftext|>");
        int padId = IdOf(TokenText(tokenizerConfig?["pad_token"])) ?? config.PadTokenId ?? eosId ?? 0;
        ChatTemplate template;
        try
        {
            template = new ChatTemplate(
                ChatTemplateText(tokenizerConfig?["chat_template"]),
                eosText ?? (eosId is { } e ? tokenizer.IdToToken(e) : null),
                bosText ?? (bosId is { } b ? tokenizer.IdToToken(b) : null),
                templateSource
            );
        }
        catch (TokenizerException e)
        {
            throw new ModelLoadException(e.Message, e);
        } // what model loaders report as bad input
        int? endOfTurn = template.EndOfTurn.Length > 0 ? tokenizer.TokenToId(template.EndOfTurn) : null;

        var stops = new List<int>();
        if (eosId is { } eos)
            stops.Add(eos);
        stops.AddRange(config.EosTokenIds);
        stops.AddRange(IdList(generationConfig?["eos_token_id"]));
        if (endOfTurn is { } eot)
            stops.Add(eot);
        return new SpecialTokens
        {
            BosId = bosId,
            EosId = eosId,
            PadId = padId,
            Template = template,
            StopTokenIds = stops.Distinct().ToList(),
            ResponseEndId = endOfTurn ?? eosId,
        };
    }

    /// <summary>A model directory's optional JSON companion file (tokenizer_config.json, …) as an object, or null when
    /// absent.</summary>
    /// <exception cref="JsonException">The file is not valid JSON.</exception>
    public static JsonObject? ReadJsonFile(string path) =>
        File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path)) as JsonObject : null;

    /// <summary>A token in tokenizer_config.json: a string, or an AddedToken object with "content".</summary>
    private static string? TokenText(JsonNode? node) =>
        node switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            JsonObject o => o["content"]?.GetValue<string>(),
            _ => null,
        };

    /// <summary>chat_template: a string, or a list of named templates (the "default" one is used).</summary>
    private static string? ChatTemplateText(JsonNode? node) =>
        node switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            JsonArray a => a.OfType<JsonObject>()
                .FirstOrDefault(t => t["name"]?.GetValue<string>() == "default")
                ?["template"]?.GetValue<string>(),
            _ => null,
        };

    private static IEnumerable<int> IdList(JsonNode? node) =>
        node switch
        {
            JsonArray a => a.Select(x => x!.GetValue<int>()),
            JsonValue v when v.TryGetValue<int>(out int i) => [i],
            _ => [],
        };
}
