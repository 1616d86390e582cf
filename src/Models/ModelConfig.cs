using System.Text.Json;
using System.Text.Json.Nodes;

namespace AlignCluster.Models;

/// <summary>The two model families we implement; Mistral and Qwen2 are Llama variants.</summary>
public enum ModelFamily
{
    /// <summary>GPT-2: learned positions, LayerNorm, GELU (tanh), Conv1D weights stored (in, out).</summary>
    Gpt2,

    /// <summary>Llama 2/3/3.1, Mistral, Qwen2: RMSNorm, RoPE, SwiGLU, grouped-query attention.</summary>
    Llama,
}

/// <summary>Llama-3.1-style RoPE scaling (<c>rope_scaling</c> in config.json); <see cref="Type"/> is "llama3" or
/// "linear".</summary>
public sealed record RopeScaling(
    string Type,
    double Factor,
    double LowFreqFactor = 1,
    double HighFreqFactor = 4,
    int OriginalMaxPositionEmbeddings = 8192
);

/// <summary>
/// The architecture hyper-parameters of a Hugging Face config.json, normalized across model types.
/// Parse with <see cref="Parse"/>; <see cref="ToJson"/> writes a config.json that transformers loads.
/// </summary>
public sealed record ModelConfig
{
    /// <summary>config.json's model_type: "gpt2", "llama", "mistral" or "qwen2".</summary>
    public required string ModelType { get; init; }
    public ModelFamily Family => ModelType == "gpt2" ? ModelFamily.Gpt2 : ModelFamily.Llama;

    public required int VocabSize { get; init; }
    public required int HiddenSize { get; init; }
    public required int NumLayers { get; init; }
    public required int NumHeads { get; init; }

    /// <summary>Key/value heads (grouped-query attention); equals <see cref="NumHeads"/> for plain multi-head
    /// attention.</summary>
    public int NumKvHeads { get; init; }

    /// <summary>Width of the MLP's hidden layer.</summary>
    public required int IntermediateSize { get; init; }
    public required int MaxPositions { get; init; }

    /// <summary>Per-head width (config head_dim, else hidden/heads).</summary>
    public int HeadDim { get; init; }
    public double NormEps { get; init; } = 1e-5;
    public double RopeTheta { get; init; } = 10000;
    public RopeScaling? RopeScaling { get; init; }

    /// <summary>The LM head reuses the token embedding matrix.</summary>
    public bool TieWordEmbeddings { get; init; }

    /// <summary>Biases on q/k/v projections (Qwen2; Llama's attention_bias also covers o_proj).</summary>
    public bool QkvBias { get; init; }
    public bool OutputProjBias { get; init; }
    public bool MlpBias { get; init; }

    /// <summary>Mistral's sliding attention window (tokens), null for full attention.</summary>
    public int? SlidingWindow { get; init; }
    public int? BosTokenId { get; init; }
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];
    public int? PadTokenId { get; init; }

    /// <summary>config.json's torch_dtype ("float32", "bfloat16", "float16").</summary>
    public string TorchDtype { get; init; } = "float32";

    /// <summary>The original config.json text when parsed from a file; <see cref="ToJson"/> keeps its other
    /// fields.</summary>
    public string? Json { get; init; }

    /// <summary>Parses config.json. Unknown model types and missing or invalid fields give errors naming the file and
    /// field.</summary>
    public static ModelConfig Load(string path)
    {
        if (!File.Exists(path))
            throw new ModelLoadException($"config file '{path}' not found");
        return Parse(File.ReadAllText(path), path);
    }

    /// <inheritdoc cref="Load"/>
    public static ModelConfig Parse(string json, string source = "config.json")
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json);
        }
        catch (JsonException e)
        {
            throw new ModelLoadException($"{source}: not valid JSON ({e.Message})", e);
        }
        if (root is not JsonObject o)
            throw new ModelLoadException($"{source}: the top level must be an object");
        var f = new Fields(o, source);

        string? modelType = f.OptString("model_type");
        string architectures = o["architectures"] is JsonArray a
            ? string.Join(", ", a.Select(x => x?.ToString()))
            : "none listed";
        if (modelType is null)
            throw new ModelLoadException($"{source}: missing field 'model_type' (architectures: {architectures})");
        var config = modelType switch
        {
            "gpt2" => ParseGpt2(f),
            "llama" or "mistral" or "qwen2" => ParseLlama(f, modelType),
            _ => throw new ModelLoadException(
                $"{source}: model_type '{modelType}' (architectures: {architectures}) is not supported; "
                    + "supported: gpt2, llama, mistral, qwen2"
            ),
        };
        config = config with
        {
            BosTokenId = f.OptInt("bos_token_id"),
            EosTokenIds = f.IntOrList("eos_token_id"),
            PadTokenId = f.OptInt("pad_token_id"),
            TorchDtype = f.OptString("torch_dtype") ?? "float32",
            Json = json,
        };
        config.Validate(source);
        return config;
    }

    private static ModelConfig ParseGpt2(Fields f)
    {
        int hidden = f.Int("n_embd");
        string act = f.OptString("activation_function") ?? "gelu_new";
        if (act is not ("gelu_new" or "gelu_pytorch_tanh" or "gelu"))
            throw f.Error("activation_function", $"'{act}' is not supported (gelu_new, gelu_pytorch_tanh, gelu)");
        return new ModelConfig
        {
            ModelType = "gpt2",
            VocabSize = f.Int("vocab_size"),
            HiddenSize = hidden,
            NumLayers = f.Int("n_layer"),
            NumHeads = f.Int("n_head"),
            NumKvHeads = f.Int("n_head"),
            IntermediateSize = f.OptInt("n_inner") ?? 4 * hidden,
            MaxPositions = f.Int("n_positions"),
            HeadDim = hidden / Math.Max(1, f.Int("n_head")),
            NormEps = f.OptDouble("layer_norm_epsilon") ?? 1e-5,
            TieWordEmbeddings = f.OptBool("tie_word_embeddings") ?? true,
            QkvBias = true,
            OutputProjBias = true,
            MlpBias = true,
        };
    }

    private static ModelConfig ParseLlama(Fields f, string modelType)
    {
        int hidden = f.Int("hidden_size"),
            heads = f.Int("num_attention_heads");
        string act = f.OptString("hidden_act") ?? "silu";
        if (act != "silu")
            throw f.Error("hidden_act", $"'{act}' is not supported (silu)");
        bool attentionBias = f.OptBool("attention_bias") ?? false;
        bool useSliding = modelType == "mistral" || (f.OptBool("use_sliding_window") ?? false);
        return new ModelConfig
        {
            ModelType = modelType,
            VocabSize = f.Int("vocab_size"),
            HiddenSize = hidden,
            NumLayers = f.Int("num_hidden_layers"),
            NumHeads = heads,
            NumKvHeads = f.OptInt("num_key_value_heads") ?? heads,
            IntermediateSize = f.Int("intermediate_size"),
            MaxPositions = f.OptInt("max_position_embeddings") ?? 2048,
            HeadDim = f.OptInt("head_dim") ?? hidden / Math.Max(1, heads),
            NormEps = f.OptDouble("rms_norm_eps") ?? 1e-6,
            RopeTheta = f.OptDouble("rope_theta") ?? 10000,
            RopeScaling = ParseRopeScaling(f),
            TieWordEmbeddings = f.OptBool("tie_word_embeddings") ?? false,
            QkvBias = modelType == "qwen2" || attentionBias,
            OutputProjBias = modelType != "qwen2" && attentionBias,
            MlpBias = f.OptBool("mlp_bias") ?? false,
            SlidingWindow = useSliding ? f.OptInt("sliding_window") : null,
        };
    }

    private static RopeScaling? ParseRopeScaling(Fields f)
    {
        if (f.Object["rope_scaling"] is not JsonObject r)
            return null;
        var inner = new Fields(r, f.Source + ": rope_scaling");
        string type = inner.OptString("rope_type") ?? inner.OptString("type") ?? "default";
        return type switch
        {
            "default" => null,
            "linear" => new RopeScaling("linear", inner.Double("factor")),
            "llama3" => new RopeScaling(
                "llama3",
                inner.Double("factor"),
                inner.OptDouble("low_freq_factor") ?? 1,
                inner.OptDouble("high_freq_factor") ?? 4,
                inner.OptInt("original_max_position_embeddings") ?? 8192
            ),
            _ => throw f.Error("rope_scaling", $"rope_type '{type}' is not supported (default, linear, llama3)"),
        };
    }

    private void Validate(string source)
    {
        void Positive(int value, string field)
        {
            if (value <= 0)
                throw new ModelLoadException($"{source}: field '{field}' must be positive, got {value}");
        }
        Positive(VocabSize, "vocab_size");
        Positive(HiddenSize, "hidden size");
        Positive(NumLayers, "number of layers");
        Positive(NumHeads, "number of heads");
        Positive(NumKvHeads, "num_key_value_heads");
        Positive(IntermediateSize, "intermediate size");
        Positive(MaxPositions, "max positions");
        if (NumHeads % NumKvHeads != 0)
            throw new ModelLoadException(
                $"{source}: num_attention_heads {NumHeads} is not a multiple of num_key_value_heads {NumKvHeads}"
            );
        if (Family == ModelFamily.Gpt2 && HiddenSize % NumHeads != 0)
            throw new ModelLoadException($"{source}: n_embd {HiddenSize} is not a multiple of n_head {NumHeads}");
        if (Family == ModelFamily.Llama && HeadDim % 2 != 0)
            throw new ModelLoadException($"{source}: head dimension {HeadDim} must be even for rotary embeddings");
    }

    /// <summary>
    /// config.json for this configuration, HF style. Fields of the original file that we do not model
    /// (transformers_version, initializer_range, …) are kept; the ones we model are written from this record.
    /// </summary>
    public string ToJson()
    {
        var o = Json is not null && JsonNode.Parse(Json) is JsonObject original ? original : new JsonObject();
        if (Family == ModelFamily.Gpt2)
        {
            o["architectures"] = new JsonArray("GPT2LMHeadModel");
            o["model_type"] = "gpt2";
            o["vocab_size"] = VocabSize;
            o["n_embd"] = HiddenSize;
            o["n_layer"] = NumLayers;
            o["n_head"] = NumHeads;
            o["n_inner"] = IntermediateSize;
            o["n_positions"] = MaxPositions;
            o["n_ctx"] = MaxPositions;
            o["layer_norm_epsilon"] = NormEps;
            o["activation_function"] = "gelu_new";
        }
        else
        {
            o["architectures"] = new JsonArray(
                ModelType switch
                {
                    "mistral" => "MistralForCausalLM",
                    "qwen2" => "Qwen2ForCausalLM",
                    _ => "LlamaForCausalLM",
                }
            );
            o["model_type"] = ModelType;
            o["vocab_size"] = VocabSize;
            o["hidden_size"] = HiddenSize;
            o["num_hidden_layers"] = NumLayers;
            o["num_attention_heads"] = NumHeads;
            o["num_key_value_heads"] = NumKvHeads;
            o["head_dim"] = HeadDim;
            o["intermediate_size"] = IntermediateSize;
            o["max_position_embeddings"] = MaxPositions;
            o["rms_norm_eps"] = NormEps;
            o["rope_theta"] = RopeTheta;
            o["hidden_act"] = "silu";
            if (ModelType == "llama")
                o["attention_bias"] = OutputProjBias;
            o["mlp_bias"] = MlpBias;
            if (ModelType == "qwen2")
                o["use_sliding_window"] = SlidingWindow is not null;
            if (SlidingWindow is not null || ModelType == "mistral")
                o["sliding_window"] = SlidingWindow;
            if (RopeScaling is { } r)
                o["rope_scaling"] =
                    r.Type == "linear"
                        ? new JsonObject { ["rope_type"] = "linear", ["factor"] = r.Factor }
                        : new JsonObject
                        {
                            ["rope_type"] = "llama3",
                            ["factor"] = r.Factor,
                            ["low_freq_factor"] = r.LowFreqFactor,
                            ["high_freq_factor"] = r.HighFreqFactor,
                            ["original_max_position_embeddings"] = r.OriginalMaxPositionEmbeddings,
                        };
        }
        o["tie_word_embeddings"] = TieWordEmbeddings;
        if (BosTokenId is { } bos)
            o["bos_token_id"] = bos;
        if (EosTokenIds.Count == 1)
            o["eos_token_id"] = EosTokenIds[0];
        else if (EosTokenIds.Count > 1)
            o["eos_token_id"] = new JsonArray(EosTokenIds.Select(i => (JsonNode)i).ToArray());
        else
            o.Remove("eos_token_id");
        if (PadTokenId is { } pad)
            o["pad_token_id"] = pad;
        o["torch_dtype"] = TorchDtype;
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Typed access to config fields with errors that name the file and field.</summary>
    private sealed class Fields(JsonObject o, string source)
    {
        public JsonObject Object => o;
        public string Source => source;

        public ModelLoadException Error(string field, string problem) => new($"{source}: field '{field}': {problem}");

        private JsonValue? Value(string name) =>
            o[name] switch
            {
                null => null,
                JsonValue v => v,
                _ => throw Error(name, "must be a single value"),
            };

        public int Int(string name) => OptInt(name) ?? throw Error(name, "missing");

        public double Double(string name) => OptDouble(name) ?? throw Error(name, "missing");

        public int? OptInt(string name)
        {
            var v = Value(name);
            if (v is null)
                return null;
            if (v.TryGetValue<int>(out int i))
                return i;
            if (v.TryGetValue<double>(out double d) && d == Math.Floor(d) && Math.Abs(d) < int.MaxValue)
                return (int)d;
            throw Error(name, $"must be an integer, got {v.ToJsonString()}");
        }

        public double? OptDouble(string name)
        {
            var v = Value(name);
            if (v is null)
                return null;
            return v.TryGetValue<double>(out double d)
                ? d
                : throw Error(name, $"must be a number, got {v.ToJsonString()}");
        }

        public bool? OptBool(string name)
        {
            var v = Value(name);
            if (v is null)
                return null;
            return v.TryGetValue<bool>(out bool b)
                ? b
                : throw Error(name, $"must be true or false, got {v.ToJsonString()}");
        }

        public string? OptString(string name)
        {
            var v = Value(name);
            if (v is null)
                return null;
            return v.TryGetValue<string>(out var s)
                ? s
                : throw Error(name, $"must be a string, got {v.ToJsonString()}");
        }

        public IReadOnlyList<int> IntOrList(string name) =>
            o[name] switch
            {
                null => [],
                JsonArray a => a.Select(
                        (x, i) =>
                            x is JsonValue v && v.TryGetValue<int>(out int id)
                                ? id
                                : throw Error($"{name}[{i}]", "must be an integer")
                    )
                    .ToList(),
                _ => OptInt(name) is { } single ? [single] : [],
            };
    }
}

/// <summary>A model directory cannot be loaded: the message names the file, field or tensor and what was
/// expected.</summary>
public sealed class ModelLoadException(string message, Exception? inner = null) : Exception(message, inner);
