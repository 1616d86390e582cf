using System.Text.Json.Nodes;
using AlignCluster.Models.SafeTensors;
using AlignCluster.Models.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Models;

/// <summary>
/// A Hugging Face model directory in memory: the network, its tokenizer and chat template, and the special tokens.
/// <see cref="Load"/> reads config.json + model.safetensors (or shards) + tokenizer.json (+ tokenizer_config.json,
/// generation_config.json); <see cref="Save"/> writes the same layout back so other tools load it.
/// </summary>
public sealed class LanguageModel : IDisposable
{
    private static readonly string[] CompanionFiles =
    [
        "tokenizer_config.json",
        "generation_config.json",
        "special_tokens_map.json",
    ];
    private readonly Dictionary<string, string> _companions;

    public ModelConfig Config => Network.Config;
    public CausalLM Network { get; }
    public Tokenizer Tokenizer { get; }
    public ChatTemplate Template { get; }
    public int? BosId { get; }
    public int? EosId { get; }

    /// <summary>Id used for padding (pad token, else EOS, else 0); padded positions are always masked.</summary>
    public int PadId { get; }

    /// <summary>Ids that end generation: EOS ids from every config file plus the template's end-of-turn
    /// token.</summary>
    public IReadOnlyList<int> StopTokenIds { get; }

    private LanguageModel(CausalLM network, Tokenizer tokenizer, Dictionary<string, string> companions)
    {
        Network = network;
        Tokenizer = tokenizer;
        _companions = companions;
        var tokConfig = companions.TryGetValue("tokenizer_config.json", out var tc)
            ? JsonNode.Parse(tc) as JsonObject
            : null;
        var genConfig = companions.TryGetValue("generation_config.json", out var gc)
            ? JsonNode.Parse(gc) as JsonObject
            : null;
        var special = SpecialTokens.Resolve(Config, tokenizer, tokConfig, genConfig);
        (BosId, EosId, PadId, Template, StopTokenIds) = (
            special.BosId,
            special.EosId,
            special.PadId,
            special.Template,
            special.StopTokenIds
        );
    }

    /// <summary>
    /// Loads a model directory. Weights are converted to <paramref name="dtype"/> and placed on <paramref
    /// name="device"/>
    /// (default: CPU). Missing files, unknown architectures and missing or mis-shaped tensors give
    /// <see cref="ModelLoadException"/>s naming the file and key.
    /// </summary>
    public static LanguageModel Load(string dir, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        dir = Path.GetFullPath(dir);
        if (!Directory.Exists(dir))
            throw new ModelLoadException($"model directory '{dir}' does not exist");
        var config = ModelConfig.Load(Path.Combine(dir, "config.json"));
        var tokenizer = LoadTokenizer(dir);
        if (tokenizer.VocabSize > config.VocabSize)
            throw new ModelLoadException(
                $"{dir}: tokenizer has {tokenizer.VocabSize} ids but config.json's vocab_size is {config.VocabSize}"
            );
        var companions = CompanionFiles
            .Where(f => File.Exists(Path.Combine(dir, f)))
            .ToDictionary(f => f, f => File.ReadAllText(Path.Combine(dir, f)));

        var network = CheckpointLoader.Fill(
            CausalLM.CreateUninitialized(config, dtype, device ?? torch.CPU),
            dir,
            source => WeightLayout.Resolve(config, source)
        );
        return new LanguageModel(network, tokenizer, companions);
    }

    /// <summary>The tokenizer of a model directory: tokenizer.json, or GPT-2's original vocab.json +
    /// merges.txt.</summary>
    public static Tokenizer LoadTokenizer(string dir)
    {
        if (!Directory.Exists(dir))
            throw new ModelLoadException($"model directory '{dir}' does not exist");
        string json = Path.Combine(dir, "tokenizer.json");
        if (File.Exists(json))
            return TokenizerJson.Load(json);
        string vocab = Path.Combine(dir, "vocab.json"),
            merges = Path.Combine(dir, "merges.txt");
        if (File.Exists(vocab) && File.Exists(merges))
            return TokenizerJson.Parse(TokenizerJson.FromGpt2Files(vocab, merges), vocab);
        throw new ModelLoadException($"{dir}: no tokenizer.json (or vocab.json + merges.txt)");
    }

    /// <summary>
    /// A new model with random weights (seeded), for training from scratch. The tokenizer must carry its
    /// tokenizer.json text (any tokenizer from <see cref="TokenizerJson"/> does).
    /// </summary>
    public static LanguageModel Create(
        ModelConfig config,
        Tokenizer tokenizer,
        ChatFormat format = ChatFormat.Plain,
        ulong seed = 0,
        ScalarType dtype = ScalarType.Float32,
        string? eosToken = null
    )
    {
        if (tokenizer.VocabSize > config.VocabSize)
            throw new ArgumentException(
                $"tokenizer has {tokenizer.VocabSize} ids but the config's vocab_size is {config.VocabSize}"
            );
        using var generator = new Generator(seed);
        var network = CausalLM.Create(config with { TorchDtype = TorchDtypeName(dtype) }, dtype, generator);
        var tokConfig = new JsonObject { ["tokenizer_class"] = "PreTrainedTokenizerFast" };
        if (eosToken is not null)
            tokConfig["eos_token"] = eosToken;
        string? template = ChatTemplate.BuiltInSource(format);
        if (template is not null)
            tokConfig["chat_template"] = template;
        var companions = new Dictionary<string, string> { ["tokenizer_config.json"] = tokConfig.ToJsonString() };
        return new LanguageModel(network, tokenizer, companions);
    }

    /// <summary>
    /// Writes config.json, model.safetensors (sharded above <paramref name="maxShardBytes"/>), tokenizer.json and the
    /// companion files into <paramref name="dir"/>. Everything is written to a sibling temp directory first and then
    /// swapped in, so <paramref name="dir"/> always holds a complete model (the old one or the new one).
    /// </summary>
    public void Save(string dir, long maxShardBytes = 5L << 30)
    {
        dir = Path.GetFullPath(dir.TrimEnd('/', '\\'));
        string parent = Path.GetDirectoryName(dir)!;
        Directory.CreateDirectory(parent);
        string temp = Path.Combine(parent, $".{Path.GetFileName(dir)}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(temp);
        try
        {
            var state = Network.state_dict();
            var entries = WeightLayout
                .Expected(Config)
                .Select(t => SafeTensorsTensors.ToEntry(t.Name, state[t.Name]))
                .ToList();
            SafeTensorsCheckpoint.Save(temp, entries, maxShardBytes);
            AtomicFile.WriteText(
                Path.Combine(temp, "config.json"),
                (Config with { TorchDtype = TorchDtypeName(Network.DType) }).ToJson()
            );
            AtomicFile.WriteText(
                Path.Combine(temp, "tokenizer.json"),
                Tokenizer.Json
                    ?? throw new InvalidOperationException("the tokenizer has no tokenizer.json text to save")
            );
            foreach (var (name, text) in _companions)
                AtomicFile.WriteText(Path.Combine(temp, name), text);
            SwapIn(temp, dir);
        }
        catch
        {
            if (Directory.Exists(temp))
                Directory.Delete(temp, recursive: true);
            throw;
        }
    }

    /// <summary>config.json's torch_dtype spelling of a dtype.</summary>
    private static string TorchDtypeName(ScalarType dtype) =>
        dtype switch
        {
            ScalarType.BFloat16 => "bfloat16",
            ScalarType.Float16 => "float16",
            ScalarType.Float64 => "float64",
            _ => "float32",
        };

    private static void SwapIn(string temp, string dir)
    {
        if (!Directory.Exists(dir))
        {
            Directory.Move(temp, dir);
            return;
        }
        string old = dir + $".{Guid.NewGuid():N}.old";
        Directory.Move(dir, old);
        Directory.Move(temp, dir);
        Directory.Delete(old, recursive: true);
    }

    /// <summary>Token ids of a user prompt formatted with the model's chat template (BOS included where the model uses
    /// one).</summary>
    public List<int> EncodePrompt(string prompt) => EncodePromptText(Template.Prompt(prompt));

    /// <summary>Token ids of a conversation formatted with the chat template, ending with the assistant
    /// header.</summary>
    public List<int> EncodePrompt(IReadOnlyList<ChatMessage> messages) => EncodePromptText(Template.Prompt(messages));

    private List<int> EncodePromptText(string text)
    {
        var ids = Tokenizer.Encode(text, addSpecialTokens: !Template.PromptHasSpecialTokens);
        // Byte-level GPT-2 adds no BOS itself; give an empty plain prompt a first token so the response has context.
        if (ids.Count == 0 && (BosId ?? EosId) is { } start)
            ids.Add(start);
        return ids;
    }

    /// <summary>Token ids of an assistant response followed by the template's end-of-turn token.</summary>
    public List<int> EncodeResponse(string response) => Tokenizer.Encode(response + Template.EndOfTurn);

    /// <summary>Log-probs of responses given prompts (texts formatted with the chat template), no gradients.</summary>
    public List<SequenceScore> Score(IEnumerable<(string Prompt, string Response)> pairs, int batchSize = 8) =>
        SequenceScoring.Score(
            Network,
            pairs.Select(p => new ScoringRow(EncodePrompt(p.Prompt), EncodeResponse(p.Response))).ToList(),
            PadId,
            batchSize
        );

    /// <summary>Samples responses to prompts; stops at the model's stop tokens unless the options list
    /// others.</summary>
    public List<string> Generate(IReadOnlyList<string> prompts, GenerationOptions options)
    {
        if (options.StopTokenIds.Count == 0)
            options = options with { StopTokenIds = StopTokenIds };
        var results = Generation.Generate(
            Network,
            prompts.Select(p => (IReadOnlyList<int>)EncodePrompt(p)).ToList(),
            options,
            PadId
        );
        return results.Select(r => Tokenizer.Decode(r.TokenIds, skipSpecialTokens: true)).ToList();
    }

    public void Dispose() => Network.Dispose();
}
