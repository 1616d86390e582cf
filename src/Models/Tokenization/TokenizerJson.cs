using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace AlignCluster.Models.Tokenization;

/// <summary>
/// Reads Hugging Face tokenizer.json files (BPE models: byte-level GPT-2/Llama-3/Qwen2 and SentencePiece-style
/// with byte fallback), and builds tokenizer.json documents for GPT-2's original files and for new byte-level
/// tokenizers.
/// A loaded tokenizer keeps its JSON text so saving a model writes it back unchanged.
/// </summary>
public static class TokenizerJson
{
    /// <summary>Loads a tokenizer.json file; errors name the file and the offending field.</summary>
    public static Tokenizer Load(string path)
    {
        if (!File.Exists(path))
            throw new TokenizerException($"tokenizer file '{path}' not found");
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses tokenizer.json text; <paramref name="source"/> names it in error messages.</summary>
    public static Tokenizer Parse(string json, string source = "tokenizer.json")
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new TokenizerException($"{source}: not valid JSON ({e.Message})", e);
        }
        using (doc)
        {
            var reader = new Reader(source);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new TokenizerException($"{source}: the top level must be an object");
            var model = reader.Model(Required(root, "model", source));
            var added =
                root.TryGetProperty("added_tokens", out var a) && a.ValueKind == JsonValueKind.Array
                    ? a.EnumerateArray().Select((t, i) => reader.AddedToken(t, i)).ToList()
                    : [];
            var normalizer = reader.Normalizer(Optional(root, "normalizer"), "normalizer");
            var preTokenizer = reader.PreTokenizer(Optional(root, "pre_tokenizer"), "pre_tokenizer");
            var decoder = reader.Decoder(Optional(root, "decoder"), "decoder");
            var tokenizerForIds = new Tokenizer(model, normalizer, preTokenizer, decoder, added);
            var (prefix, suffix) = reader.PostProcessor(
                Optional(root, "post_processor"),
                "post_processor",
                tokenizerForIds
            );
            return new Tokenizer(model, normalizer, preTokenizer, decoder, added, prefix, suffix) { Json = json };
        }
    }

    private static JsonElement Required(JsonElement obj, string name, string where) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null
            ? v
            : throw new TokenizerException($"{where}: missing field '{name}'");

    private static JsonElement? Optional(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    private sealed class Reader(string source)
    {
        private TokenizerException Error(string field, string problem) => new($"{source}: {field}: {problem}");

        private string Type(JsonElement e, string field) =>
            e.ValueKind == JsonValueKind.Object
            && e.TryGetProperty("type", out var t)
            && t.ValueKind == JsonValueKind.String
                ? t.GetString()!
                : throw Error(field, "missing string 'type'");

        private static string Str(JsonElement e, string name, string fallback) =>
            e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : fallback;

        private static bool Bool(JsonElement e, string name, bool fallback) =>
            e.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False
                ? v.GetBoolean()
                : fallback;

        public BpeModel Model(JsonElement m)
        {
            string type = m.TryGetProperty("type", out var t) ? t.GetString() ?? "" : "BPE"; // old files omit it
            if (type != "BPE")
                throw Error("model.type", $"'{type}' is not supported (only BPE models: GPT-2, Llama, Mistral, Qwen)");
            if (!m.TryGetProperty("vocab", out var vocabJson) || vocabJson.ValueKind != JsonValueKind.Object)
                throw Error("model.vocab", "missing object");
            var vocab = new Dictionary<string, int>();
            foreach (var p in vocabJson.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out int id) || id < 0)
                    throw Error($"model.vocab['{p.Name}']", "id must be a non-negative integer");
                vocab[p.Name] = id;
            }
            var merges = new List<(string, string)>();
            if (m.TryGetProperty("merges", out var mj) && mj.ValueKind == JsonValueKind.Array)
            {
                int i = 0;
                foreach (var e in mj.EnumerateArray())
                {
                    if (e.ValueKind == JsonValueKind.String)
                    {
                        var parts = e.GetString()!.Split(' ');
                        if (parts.Length != 2)
                            throw Error(
                                $"model.merges[{i}]",
                                $"'{e.GetString()}' is not two tokens separated by one space"
                            );
                        merges.Add((parts[0], parts[1]));
                    }
                    else if (e.ValueKind == JsonValueKind.Array && e.GetArrayLength() == 2)
                        merges.Add((e[0].GetString()!, e[1].GetString()!));
                    else
                        throw Error($"model.merges[{i}]", "must be \"a b\" or [\"a\", \"b\"]");
                    i++;
                }
            }
            // GPT-2's and Qwen's files set both to "" (no affix), which is the same as null. A real affix marks
            // word-internal or word-final pieces (BERT/CLIP-style BPE), which none of the supported families use.
            foreach (var affix in (string[])["continuing_subword_prefix", "end_of_word_suffix"])
                if (Optional(m, affix) is { } v && (v.ValueKind != JsonValueKind.String || v.GetString()!.Length > 0))
                    throw Error(
                        $"model.{affix}",
                        $"{v.GetRawText()} is not supported (only null or \"\": "
                            + "word-piece affixes belong to BERT/CLIP-style BPE, not to GPT-2, Llama, Mistral, "
                            + "Qwen or Gemma)"
                    );
            if (
                Optional(m, "dropout") is { } dropout
                && !(dropout.ValueKind == JsonValueKind.Number && dropout.GetDouble() == 0)
            )
                throw Error(
                    "model.dropout",
                    $"{dropout.GetRawText()} is not supported (BPE dropout makes encoding random)"
                );
            try
            {
                return new BpeModel(vocab, merges)
                {
                    ByteFallback = Bool(m, "byte_fallback", false),
                    IgnoreMerges = Bool(m, "ignore_merges", false),
                    FuseUnk = Bool(m, "fuse_unk", false),
                    UnkToken = Optional(m, "unk_token")?.GetString(),
                };
            }
            catch (FormatException e)
            {
                throw Error("model.merges", e.Message);
            }
        }

        public AddedToken AddedToken(JsonElement t, int index)
        {
            string field = $"added_tokens[{index}]";
            if (!t.TryGetProperty("id", out var id) || !id.TryGetInt32(out int i))
                throw Error(field, "missing integer 'id'");
            if (!t.TryGetProperty("content", out var c) || c.ValueKind != JsonValueKind.String)
                throw Error(field, "missing string 'content'");
            return new AddedToken(
                i,
                c.GetString()!,
                Bool(t, "special", false),
                Bool(t, "lstrip", false),
                Bool(t, "rstrip", false)
            );
        }

        public Normalizer? Normalizer(JsonElement? n, string field)
        {
            if (n is not { } e)
                return null;
            return Type(e, field) switch
            {
                "Sequence" => TextSteps.Sequence(
                    e.GetProperty("normalizers")
                        .EnumerateArray()
                        .Select((x, i) => Normalizer(x, $"{field}.normalizers[{i}]")!)
                        .ToList()
                ),
                "NFC" => TextSteps.Unicode(NormalizationForm.FormC),
                "NFD" => TextSteps.Unicode(NormalizationForm.FormD),
                "NFKC" => TextSteps.Unicode(NormalizationForm.FormKC),
                "NFKD" => TextSteps.Unicode(NormalizationForm.FormKD),
                "Lowercase" => TextSteps.Lowercase(),
                "Prepend" => TextSteps.Prepend(Str(e, "prepend", "▁")),
                "Replace" => TextSteps.Replace(StringPattern(e, field), Str(e, "content", "")),
                var other => throw Error(field, $"normalizer type '{other}' is not supported"),
            };
        }

        private string StringPattern(JsonElement e, string field) =>
            e.TryGetProperty("pattern", out var p) && p.TryGetProperty("String", out var s)
                ? s.GetString()!
                : throw Error(field, "only {\"String\": ...} patterns are supported here");

        public IPreTokenizer? PreTokenizer(JsonElement? p, string field)
        {
            if (p is not { } e)
                return null;
            switch (Type(e, field))
            {
                case "Sequence":
                    return new PreTokenizerSequence(
                        e.GetProperty("pretokenizers")
                            .EnumerateArray()
                            .Select((x, i) => PreTokenizer(x, $"{field}.pretokenizers[{i}]")!)
                            .ToList()
                    );
                case "ByteLevel":
                    return new ByteLevelPreTokenizer(Bool(e, "add_prefix_space", false), Bool(e, "use_regex", true));
                case "Metaspace":
                    string scheme = Str(e, "prepend_scheme", Bool(e, "add_prefix_space", true) ? "always" : "never");
                    return new MetaspacePreTokenizer(Str(e, "replacement", "▁"), scheme, Bool(e, "split", true));
                case "Split":
                    string behaviorName = Str(e, "behavior", "Isolated");
                    if (
                        !Enum.TryParse<SplitBehavior>(behaviorName, ignoreCase: false, out var behavior)
                        || !Enum.IsDefined(behavior)
                    )
                        throw Error(
                            $"{field}.behavior",
                            $"Split behavior '{behaviorName}' is not supported "
                                + "(Isolated, Removed, MergedWithPrevious, MergedWithNext, Contiguous)"
                        );
                    if (!e.TryGetProperty("pattern", out var pat))
                        throw Error(field, "missing 'pattern'");
                    string regex =
                        pat.TryGetProperty("Regex", out var r) ? r.GetString()!
                        : pat.TryGetProperty("String", out var s) ? Regex.Escape(s.GetString()!)
                        : throw Error(field, "pattern must be {\"Regex\": ...} or {\"String\": ...}");
                    Regex compiled;
                    try
                    {
                        compiled = new Regex(regex, RegexOptions.Compiled | RegexOptions.CultureInvariant);
                    }
                    catch (ArgumentException x)
                    {
                        throw Error(field, $"pattern does not compile as a .NET regex ({x.Message})");
                    }
                    return new RegexSplit(compiled, behavior, Bool(e, "invert", false));
                case var other:
                    throw Error(field, $"pre-tokenizer type '{other}' is not supported");
            }
        }

        public TokenDecoder? Decoder(JsonElement? d, string field)
        {
            if (d is not { } e)
                return null;
            return Type(e, field) switch
            {
                "Sequence" => TextSteps.Sequence(
                    e.GetProperty("decoders")
                        .EnumerateArray()
                        .Select((x, i) => Decoder(x, $"{field}.decoders[{i}]")!)
                        .ToList()
                ),
                "ByteLevel" => TextSteps.ByteLevel(),
                "ByteFallback" => TextSteps.ByteFallback(),
                "Fuse" => TextSteps.Fuse(),
                "Replace" => TextSteps.ReplaceTokens(StringPattern(e, field), Str(e, "content", "")),
                "Strip" => TextSteps.Strip(
                    Str(e, "content", " ")[0],
                    e.TryGetProperty("start", out var a) ? a.GetInt32() : 0,
                    e.TryGetProperty("stop", out var b) ? b.GetInt32() : 0
                ),
                "Metaspace" => TextSteps.Metaspace(
                    Str(e, "replacement", "▁"),
                    Str(e, "prepend_scheme", Bool(e, "add_prefix_space", true) ? "always" : "never") != "never"
                ),
                var other => throw Error(field, $"decoder type '{other}' is not supported"),
            };
        }

        /// <summary>TemplateProcessing's "single" template → the special token ids before and after sequence
        /// A.</summary>
        public (List<int> Prefix, List<int> Suffix) PostProcessor(JsonElement? p, string field, Tokenizer ids)
        {
            var prefix = new List<int>();
            var suffix = new List<int>();
            if (p is not { } e)
                return (prefix, suffix);
            switch (Type(e, field))
            {
                case "Sequence":
                    foreach (var (x, i) in e.GetProperty("processors").EnumerateArray().Select((x, i) => (x, i)))
                    {
                        var (a, b) = PostProcessor(x, $"{field}.processors[{i}]", ids);
                        prefix.AddRange(a);
                        suffix.AddRange(b);
                    }
                    break;
                case "ByteLevel":
                    break; // only trims offsets
                case "TemplateProcessing":
                    var target = prefix;
                    foreach (var piece in e.GetProperty("single").EnumerateArray())
                    {
                        if (piece.TryGetProperty("Sequence", out _))
                        {
                            target = suffix;
                            continue;
                        }
                        if (!piece.TryGetProperty("SpecialToken", out var st))
                            throw Error(field, "unknown template piece");
                        string name = st.GetProperty("id").GetString()!;
                        target.Add(
                            ids.TokenToId(name)
                                ?? throw Error(field, $"special token '{name}' is not in the vocabulary")
                        );
                    }
                    break;
                case var other:
                    throw Error(field, $"post-processor type '{other}' is not supported");
            }
            return (prefix, suffix);
        }
    }

    /// <summary>
    /// tokenizer.json for GPT-2's original files (encoder.json: token → id; vocab.bpe: "#version" line then one merge
    /// per line), with <c>&lt;|endoftext|&gt;</c> as a special added token.
    /// </summary>
    public static string FromGpt2Files(string encoderJsonPath, string vocabBpePath)
    {
        var vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(encoderJsonPath))
            ?? throw new TokenizerException($"{encoderJsonPath}: expected a JSON object of token → id");
        var merges = new List<(string, string)>();
        var lines = File.ReadAllLines(vocabBpePath);
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Length == 0 || lines[i].StartsWith("#version", StringComparison.Ordinal))
                continue;
            var parts = lines[i].Split(' ');
            if (parts.Length != 2)
                throw new TokenizerException($"{vocabBpePath}: line {i + 1}: expected two tokens separated by a space");
            merges.Add((parts[0], parts[1]));
        }
        var added = vocab.TryGetValue("<|endoftext|>", out int eot)
            ? new[] { new AddedToken(eot, "<|endoftext|>", true) }
            : [];
        return ByteLevelJson(vocab, merges, added, SplitPatterns.Gpt2);
    }

    /// <summary>
    /// A byte-level tokenizer without merges: ids 0..255 are the bytes (in <see cref="ByteLevelAlphabet"/> order of
    /// byte value), then <paramref name="specialTokens"/> get 256, 257, …. Enough for toy models trained from scratch.
    /// </summary>
    public static Tokenizer BytesOnly(params string[] specialTokens)
    {
        var vocab = Enumerable.Range(0, 256).ToDictionary(b => ByteLevelAlphabet.Char((byte)b).ToString(), b => b);
        var added = specialTokens.Select((t, i) => new AddedToken(256 + i, t, Special: true)).ToList();
        foreach (var a in added)
            vocab[a.Content] = a.Id;
        return Parse(ByteLevelJson(vocab, [], added, SplitPatterns.Gpt2), "bytes-only tokenizer");
    }

    /// <summary>
    /// A byte-level BPE tokenizer.json in the layout HF writes: Split(<paramref name="pattern"/>) then ByteLevel, or
    /// GPT-2's ByteLevel-with-regex when the pattern is GPT-2's.
    /// </summary>
    public static string ByteLevelJson(
        IReadOnlyDictionary<string, int> vocab,
        IReadOnlyList<(string, string)> merges,
        IReadOnlyList<AddedToken> added,
        string pattern
    )
    {
        JsonObject byteLevel(bool useRegex) =>
            new()
            {
                ["type"] = "ByteLevel",
                ["add_prefix_space"] = false,
                ["trim_offsets"] = true,
                ["use_regex"] = useRegex,
            };
        JsonNode preTokenizer =
            pattern == SplitPatterns.Gpt2
                ? byteLevel(true)
                : new JsonObject
                {
                    ["type"] = "Sequence",
                    ["pretokenizers"] = new JsonArray(
                        new JsonObject
                        {
                            ["type"] = "Split",
                            ["pattern"] = new JsonObject { ["Regex"] = pattern },
                            ["behavior"] = "Isolated",
                            ["invert"] = false,
                        },
                        byteLevel(false)
                    ),
                };
        var vocabJson = new JsonObject();
        foreach (var (token, id) in vocab.OrderBy(kv => kv.Value))
            vocabJson[token] = id;
        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = new JsonArray(
                added
                    .Select(t =>
                        (JsonNode)
                            new JsonObject
                            {
                                ["id"] = t.Id,
                                ["content"] = t.Content,
                                ["single_word"] = false,
                                ["lstrip"] = t.LStrip,
                                ["rstrip"] = t.RStrip,
                                ["normalized"] = false,
                                ["special"] = t.Special,
                            }
                    )
                    .ToArray()
            ),
            ["normalizer"] = null,
            ["pre_tokenizer"] = preTokenizer,
            ["post_processor"] = byteLevel(false),
            ["decoder"] = byteLevel(false),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["dropout"] = null,
                ["unk_token"] = null,
                ["continuing_subword_prefix"] = "",
                ["end_of_word_suffix"] = "",
                ["fuse_unk"] = false,
                ["byte_fallback"] = false,
                ["ignore_merges"] = false,
                ["vocab"] = vocabJson,
                ["merges"] = new JsonArray(
                    merges.Select(m => (JsonNode)JsonValue.Create($"{m.Item1} {m.Item2}")).ToArray()
                ),
            },
        };
        return root.ToJsonString(
            new JsonSerializerOptions
            {
                WriteIndented = true,
                Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            }
        );
    }
}
