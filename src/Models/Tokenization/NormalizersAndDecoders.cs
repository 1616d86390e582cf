using System.Text;

namespace AlignCluster.Models.Tokenization;

/// <summary>tokenizer.json's normalizer: a text → text rewrite applied before pre-tokenization.</summary>
public delegate string Normalizer(string text);

/// <summary>tokenizer.json's decoder: rewrites the list of token strings; the final text is their
/// concatenation.</summary>
public delegate List<string> TokenDecoder(List<string> tokens);

/// <summary>The normalizers and decoders of tokenizer.json that the supported model families use.</summary>
public static class TextSteps
{
    public static Normalizer Unicode(NormalizationForm form) => text => UnicodeNormalization.Normalize(text, form);

    public static Normalizer Lowercase() => text => text.ToLowerInvariant();

    public static Normalizer Prepend(string prefix) => text => text.Length == 0 ? text : prefix + text;

    public static Normalizer Replace(string pattern, string content) => text => text.Replace(pattern, content);

    public static Normalizer Sequence(IReadOnlyList<Normalizer> steps) => text => steps.Aggregate(text, (t, f) => f(t));

    /// <summary>Byte-level tokens back to text: all tokens' bytes joined, then decoded as UTF-8 (bad bytes →
    /// U+FFFD).</summary>
    public static TokenDecoder ByteLevel() =>
        tokens =>
        {
            var bytes = new List<byte>();
            foreach (var t in tokens)
                ByteLevelAlphabet.AppendBytes(t, bytes);
            return [Encoding.UTF8.GetString(bytes.ToArray())];
        };

    /// <summary>Runs of <c>&lt;0xXX&gt;</c> tokens become the text their bytes encode.</summary>
    public static TokenDecoder ByteFallback() =>
        tokens =>
        {
            var result = new List<string>();
            var pending = new List<byte>();
            void Flush()
            {
                if (pending.Count == 0)
                    return;
                result.Add(Encoding.UTF8.GetString(pending.ToArray()));
                pending.Clear();
            }
            foreach (var t in tokens)
            {
                if (BpeModel.TryParseByteToken(t, out var b))
                    pending.Add(b);
                else
                {
                    Flush();
                    result.Add(t);
                }
            }
            Flush();
            return result;
        };

    public static TokenDecoder ReplaceTokens(string pattern, string content) =>
        tokens => tokens.ConvertAll(t => t.Replace(pattern, content));

    public static TokenDecoder Fuse() => tokens => [string.Concat(tokens)];

    /// <summary>Removes up to <paramref name="start"/> leading and <paramref name="stop"/> trailing <paramref
    /// name="content"/> characters from each token.</summary>
    public static TokenDecoder Strip(char content, int start, int stop) =>
        tokens =>
            tokens.ConvertAll(t =>
            {
                int a = 0,
                    b = t.Length;
                while (a < start && a < b && t[a] == content)
                    a++;
                while (t.Length - b < stop && b > a && t[b - 1] == content)
                    b--;
                return t[a..b];
            });

    /// <summary>SentencePiece: '▁' → space, and the first token loses the space the pre-tokenizer prepended.</summary>
    public static TokenDecoder Metaspace(string replacement, bool stripFirst) =>
        tokens =>
            tokens
                .Select(
                    (t, i) =>
                    {
                        string s = t.Replace(replacement, " ");
                        return i == 0 && stripFirst && s.StartsWith(' ') ? s[1..] : s;
                    }
                )
                .ToList();

    public static TokenDecoder Sequence(IReadOnlyList<TokenDecoder> steps) =>
        tokens => steps.Aggregate(tokens, (t, f) => f(t));
}
