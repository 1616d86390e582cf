using System.Text;
using System.Text.RegularExpressions;

namespace AlignCluster.Models.Tokenization;

/// <summary>One step of tokenizer.json's pre_tokenizer: splits a piece of text into smaller pieces (or rewrites
/// it).</summary>
public interface IPreTokenizer
{
    /// <param name="piece">Text to split.</param>
    /// <param name="isFirst">True for the first piece of the input (Metaspace's prepend_scheme "first" needs
    /// it).</param>
    /// <param name="output">Receives the resulting pieces.</param>
    void Split(string piece, bool isFirst, List<string> output);
}

/// <summary>The split patterns of the well-known byte-level tokenizers.</summary>
public static class SplitPatterns
{
    /// <summary>GPT-2 (also the default of the ByteLevel pre-tokenizer).</summary>
    public const string Gpt2 = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>Llama-3 (tiktoken cl100k-style: numbers in groups of up to three).</summary>
    public const string Llama3 =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Qwen2 (as Llama-3 but every digit on its own).</summary>
    public const string Qwen2 =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>
    /// Regex matches with code-point semantics. .NET regexes see UTF-16 units, so a character outside the BMP would be
    /// two "other" units and \p{L} would miss e.g. 𝐀; we match on a copy where each such character is one BMP stand-in
    /// of the same class (letter, number, other) and map positions back.
    /// </summary>
    public static IEnumerable<(int Start, int Length)> Matches(Regex regex, string text)
    {
        if (!text.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF'))
        {
            foreach (Match m in regex.Matches(text))
                yield return (m.Index, m.Length);
            yield break;
        }
        var projected = new StringBuilder(text.Length);
        var origin = new List<int>(text.Length + 1); // projected index → original index
        for (int i = 0; i < text.Length; )
        {
            origin.Add(i);
            if (Rune.TryGetRuneAt(text, i, out var rune) && rune.Utf16SequenceLength == 2)
            {
                projected.Append(
                    Rune.IsLetter(rune) ? '\u3400'
                    : Rune.IsNumber(rune) ? '\u0660'
                    : '\uE000'
                );
                i += 2;
            }
            else
            {
                projected.Append(text[i]);
                i++;
            }
        }
        origin.Add(text.Length);
        foreach (Match m in regex.Matches(projected.ToString()))
            yield return (origin[m.Index], origin[m.Index + m.Length] - origin[m.Index]);
    }
}

/// <summary>What a Split pre-tokenizer does with the text a pattern matched (tokenizer.json's "behavior").</summary>
public enum SplitBehavior
{
    /// <summary>Each match is a piece of its own: "a-b" split on "-" → "a", "-", "b".</summary>
    Isolated,

    /// <summary>Matches are dropped: "a-b" → "a", "b".</summary>
    Removed,

    /// <summary>Each match ends the piece before it: "a-b" → "a-", "b" (Gemma-3 splits on " " this way).</summary>
    MergedWithPrevious,

    /// <summary>Each match starts the piece after it: "a-b" → "a", "-b".</summary>
    MergedWithNext,

    /// <summary>Adjacent matches form one piece: "a--b" → "a", "--", "b".</summary>
    Contiguous,
}

/// <summary>
/// Splits by a regex into matched and unmatched spans (swapped with <paramref name="invert"/>), then groups them by
/// <paramref name="behavior"/>, as the Split pre-tokenizer of tokenizer.json does.
/// </summary>
public sealed class RegexSplit(Regex regex, SplitBehavior behavior = SplitBehavior.Isolated, bool invert = false)
    : IPreTokenizer
{
    public Regex Regex { get; } = regex;

    public void Split(string piece, bool isFirst, List<string> output)
    {
        // Spans in order, each flagged whether it is a "delimiter" (a match, or a non-match when inverted).
        var spans = new List<(int Start, int End, bool Delimiter)>();
        int last = 0;
        foreach (var (start, length) in SplitPatterns.Matches(Regex, piece))
        {
            if (length == 0)
                continue;
            if (start > last)
                spans.Add((last, start, invert));
            spans.Add((start, start + length, !invert));
            last = start + length;
        }
        if (last < piece.Length)
            spans.Add((last, piece.Length, invert));

        switch (behavior)
        {
            case SplitBehavior.Isolated:
                foreach (var s in spans)
                    output.Add(piece[s.Start..s.End]);
                break;
            case SplitBehavior.Removed:
                foreach (var s in spans)
                    if (!s.Delimiter)
                        output.Add(piece[s.Start..s.End]);
                break;
            case SplitBehavior.MergedWithPrevious:
                // A delimiter joins the piece before it (unless that piece already ended in a delimiter).
                GroupWhere(spans, piece, output, (previous, current) => !(current.Delimiter && !previous.Delimiter));
                break;
            case SplitBehavior.MergedWithNext:
                GroupWhere(spans, piece, output, (previous, current) => !(previous.Delimiter && !current.Delimiter));
                break;
            case SplitBehavior.Contiguous:
                GroupWhere(spans, piece, output, (previous, current) => previous.Delimiter != current.Delimiter);
                break;
        }
    }

    /// <summary>Concatenates consecutive spans, starting a new piece wherever <paramref name="startsNew"/> says
    /// so.</summary>
    private static void GroupWhere(
        List<(int Start, int End, bool Delimiter)> spans,
        string piece,
        List<string> output,
        Func<(int Start, int End, bool Delimiter), (int Start, int End, bool Delimiter), bool> startsNew
    )
    {
        int groupStart = -1;
        for (int i = 0; i < spans.Count; i++)
        {
            if (i > 0 && startsNew(spans[i - 1], spans[i]))
            {
                output.Add(piece[groupStart..spans[i].Start]);
                groupStart = -1;
            }
            if (groupStart < 0)
                groupStart = spans[i].Start;
        }
        if (groupStart >= 0)
            output.Add(piece[groupStart..spans[^1].End]);
    }
}

/// <summary>GPT-2's byte-level step: optionally splits with the GPT-2 pattern, then spells each piece's UTF-8 bytes in
/// <see cref="ByteLevelAlphabet"/>.</summary>
public sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex) : IPreTokenizer
{
    private static readonly Regex Gpt2Regex = new(
        SplitPatterns.Gpt2,
        RegexOptions.Compiled | RegexOptions.CultureInvariant
    );
    public bool AddPrefixSpace { get; } = addPrefixSpace;
    public bool UseRegex { get; } = useRegex;

    public void Split(string piece, bool isFirst, List<string> output)
    {
        if (AddPrefixSpace && isFirst && piece.Length > 0 && !char.IsWhiteSpace(piece[0]))
            piece = " " + piece;
        if (!UseRegex)
        {
            output.Add(ByteLevelAlphabet.Encode(piece));
            return;
        }
        foreach (var (start, length) in SplitPatterns.Matches(Gpt2Regex, piece))
            if (length > 0)
                output.Add(ByteLevelAlphabet.Encode(piece.Substring(start, length)));
    }
}

/// <summary>SentencePiece's space handling: spaces become '▁' and (scheme "first"/"always") one '▁' is
/// prepended.</summary>
public sealed class MetaspacePreTokenizer(string replacement, string prependScheme, bool split) : IPreTokenizer
{
    public void Split(string piece, bool isFirst, List<string> output)
    {
        string s = piece.Replace(" ", replacement);
        bool prepend = prependScheme == "always" || (prependScheme == "first" && isFirst);
        if (prepend && !s.StartsWith(replacement, StringComparison.Ordinal))
            s = replacement + s;
        if (!split)
        {
            output.Add(s);
            return;
        }
        // Split before each replacement character, keeping it with the word that follows.
        int start = 0;
        for (int i = 1; i < s.Length; i++)
            if (string.CompareOrdinal(s, i, replacement, 0, replacement.Length) == 0)
            {
                output.Add(s[start..i]);
                start = i;
            }
        output.Add(s[start..]);
    }
}

/// <summary>Applies steps in order, each to every piece the previous one produced.</summary>
public sealed class PreTokenizerSequence(IReadOnlyList<IPreTokenizer> steps) : IPreTokenizer
{
    public IReadOnlyList<IPreTokenizer> Steps { get; } = steps;

    public void Split(string piece, bool isFirst, List<string> output)
    {
        var pieces = new List<string> { piece };
        foreach (var step in Steps)
        {
            var next = new List<string>();
            for (int i = 0; i < pieces.Count; i++)
                step.Split(pieces[i], isFirst && i == 0, next);
            pieces = next;
        }
        output.AddRange(pieces);
    }
}
