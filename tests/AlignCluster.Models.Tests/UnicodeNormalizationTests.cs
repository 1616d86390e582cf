using System.Text;
using System.Text.Json;
using AlignCluster.Models.Tokenization;

namespace AlignCluster.Models.Tests;

/// <summary>
/// Our NFC/NFD/NFKC/NFKD must equal node's String.prototype.normalize (ICU), an independent implementation, on
/// every code point of the long-assigned ranges and on random sequences of letters and combining marks.
/// </summary>
public sealed class UnicodeNormalizationTests
{
    private static readonly string[] Forms = ["NFC", "NFD", "NFKC", "NFKD"];

    private static NormalizationForm Form(string name) =>
        name switch
        {
            "NFC" => NormalizationForm.FormC,
            "NFD" => NormalizationForm.FormD,
            "NFKC" => NormalizationForm.FormKC,
            _ => NormalizationForm.FormKD,
        };

    private static List<string> Texts()
    {
        var texts = new List<string>();
        // Single code points of blocks assigned before Unicode 14 (our tables' version; node's ICU may be newer).
        foreach (
            var (from, to) in new[]
            {
                (0x00A0, 0x2FDF),
                (0x3000, 0x33FF),
                (0xAC00, 0xAC40),
                (0xD7A0, 0xD7A3),
                (0xF900, 0xFFEF),
                (0x1D400, 0x1D7FF),
            }
        )
            for (int cp = from; cp <= to; cp++)
                if (
                    Rune.IsValid(cp)
                    && Rune.GetUnicodeCategory(new Rune(cp)) != System.Globalization.UnicodeCategory.OtherNotAssigned
                )
                    texts.Add(char.ConvertFromUtf32(cp));
        // Sequences that exercise reordering, blocking and composition (Latin, Greek, Hangul jamo, Devanagari).
        string[] pool =
        [
            "a",
            "e",
            "o",
            "A",
            "u",
            "ω",
            "α",
            "ᄀ",
            "ᅡ",
            "ᆨ",
            "가",
            "क",
            "ि",
            "्",
            "\u0301",
            "\u0308",
            "\u0323",
            "\u0327",
            "\u0345",
            "\u0313",
            "\u031B",
            "\u0302",
            "\u093C",
            "ﬁ",
            "①",
            "Å",
            "Ω",
            " ",
            "é",
        ];
        var rng = new Random(5);
        for (int i = 0; i < 3000; i++)
        {
            var sb = new StringBuilder();
            for (int j = rng.Next(1, 8); j > 0; j--)
                sb.Append(pool[rng.Next(pool.Length)]);
            texts.Add(sb.ToString());
        }
        texts.AddRange(RealTokenizerOracleTests.Corpus);
        return texts;
    }

    [Fact]
    public void MatchesNodeOnEveryFormAndAssignedCodePoint()
    {
        var texts = Texts();
        const string script = """
            let input = '';
            process.stdin.setEncoding('utf8');
            process.stdin.on('data', d => input += d);
            process.stdin.on('end', () => {
              const texts = JSON.parse(input);
              const out = {};
              for (const f of ['NFC', 'NFD', 'NFKC', 'NFKD']) out[f] = texts.map(t => t.normalize(f));
              console.log(JSON.stringify(out));
            });
            """;
        var expected = JsonSerializer.Deserialize<Dictionary<string, string[]>>(
            TestPaths.RunNode(script, JsonSerializer.Serialize(texts))
        )!;
        var failures = new List<string>();
        foreach (var form in Forms)
            for (int i = 0; i < texts.Count; i++)
            {
                string ours = UnicodeNormalization.Normalize(texts[i], Form(form));
                if (ours != expected[form][i])
                    failures.Add(
                        $"{form} {JsonSerializer.Serialize(texts[i])}: node "
                            + $"{JsonSerializer.Serialize(expected[form][i])} ours {JsonSerializer.Serialize(ours)}"
                    );
            }
        Assert.True(
            failures.Count == 0,
            $"{failures.Count} of {texts.Count * 4} differ:\n" + string.Join("\n", failures.Take(10))
        );
    }
}
