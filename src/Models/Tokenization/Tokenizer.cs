using System.Text.RegularExpressions;

namespace AlignCluster.Models.Tokenization;

/// <summary>A token the tokenizer matches verbatim before BPE (e.g. <c>&lt;|endoftext|&gt;</c>,
/// <c>&lt;|im_start|&gt;</c>).</summary>
public sealed record AddedToken(int Id, string Content, bool Special, bool LStrip = false, bool RStrip = false);

/// <summary>
/// A Hugging Face-style tokenizer: added tokens are split out first; every other segment is normalized,
/// pre-tokenized and run through <see cref="BpeModel"/>; optional special tokens (e.g. BOS) wrap the result.
/// Decoding maps ids to token strings and runs the decoder chain. Load one with <see cref="TokenizerJson"/>.
/// </summary>
public sealed class Tokenizer
{
    private readonly Dictionary<int, AddedToken> _addedById;
    private readonly Dictionary<string, AddedToken> _addedByContent;
    private readonly Regex? _addedPattern;

    public BpeModel Model { get; }
    public Normalizer? Normalizer { get; }
    public IPreTokenizer? PreTokenizer { get; }
    public TokenDecoder? Decoder { get; }
    public IReadOnlyList<AddedToken> AddedTokens { get; }

    /// <summary>Ids the post-processor puts before / after the text when special tokens are requested (e.g. Llama's
    /// BOS).</summary>
    public IReadOnlyList<int> PrefixIds { get; }
    public IReadOnlyList<int> SuffixIds { get; }

    /// <summary>The tokenizer.json text this tokenizer was parsed from; saving a model writes it back
    /// unchanged.</summary>
    public string? Json { get; init; }

    public Tokenizer(
        BpeModel model,
        Normalizer? normalizer,
        IPreTokenizer? preTokenizer,
        TokenDecoder? decoder,
        IReadOnlyList<AddedToken> addedTokens,
        IReadOnlyList<int>? prefixIds = null,
        IReadOnlyList<int>? suffixIds = null
    )
    {
        Model = model;
        Normalizer = normalizer;
        PreTokenizer = preTokenizer;
        Decoder = decoder;
        AddedTokens = addedTokens;
        PrefixIds = prefixIds ?? [];
        SuffixIds = suffixIds ?? [];
        _addedById = addedTokens.ToDictionary(t => t.Id);
        _addedByContent = addedTokens.GroupBy(t => t.Content).ToDictionary(g => g.Key, g => g.First());
        if (addedTokens.Count > 0)
        {
            // Longest first, so that at one position the longest added token wins.
            var alternatives = addedTokens
                .Select(t => t.Content)
                .Distinct()
                .OrderByDescending(c => c.Length)
                .Select(Regex.Escape);
            _addedPattern = new Regex(string.Join("|", alternatives), RegexOptions.CultureInvariant);
        }
    }

    /// <summary>Number of ids (the embedding table must have at least this many rows).</summary>
    public int VocabSize => Math.Max(Model.Size, AddedTokens.Count == 0 ? 0 : AddedTokens.Max(t => t.Id) + 1);

    /// <summary>The id of a token string (model vocabulary or added token), or null.</summary>
    public int? TokenToId(string token) =>
        _addedByContent.TryGetValue(token, out var a) ? a.Id
        : Model.Vocab.TryGetValue(token, out int id) ? id
        : null;

    /// <summary>The token string of an id, or null when the id is unused.</summary>
    public string? IdToToken(int id) => _addedById.TryGetValue(id, out var a) ? a.Content : Model.TokenOf(id);

    /// <summary>True for ids of special added tokens.</summary>
    public bool IsSpecial(int id) => _addedById.TryGetValue(id, out var a) && a.Special;

    /// <summary>Token ids of <paramref name="text"/>; with <paramref name="addSpecialTokens"/> the post-processor's
    /// prefix/suffix (e.g. BOS) are added.</summary>
    public List<int> Encode(string text, bool addSpecialTokens = false)
    {
        var ids = new List<int>(text.Length / 3 + 4);
        if (addSpecialTokens)
            ids.AddRange(PrefixIds);
        var words = new List<string>();
        bool first = true;
        foreach (var (segment, added) in SplitAddedTokens(text))
        {
            if (added is not null)
            {
                ids.Add(added.Id);
            }
            else if (segment.Length > 0)
            {
                string normalized = Normalizer is null ? segment : Normalizer(segment);
                words.Clear();
                if (PreTokenizer is null)
                    words.Add(normalized);
                else
                    PreTokenizer.Split(normalized, first, words);
                foreach (var w in words)
                    Model.Tokenize(w, ids);
            }
            first = false;
        }
        if (addSpecialTokens)
            ids.AddRange(SuffixIds);
        return ids;
    }

    /// <summary>Text of <paramref name="ids"/>; special tokens are dropped with <paramref
    /// name="skipSpecialTokens"/>.</summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false)
    {
        var tokens = new List<string>();
        foreach (int id in ids)
        {
            if (skipSpecialTokens && IsSpecial(id))
                continue;
            tokens.Add(
                IdToToken(id)
                    ?? throw new TokenizerException($"token id {id} is outside the vocabulary (size {VocabSize})")
            );
        }
        return Decoder is null ? string.Join(" ", tokens) : string.Concat(Decoder(tokens));
    }

    /// <summary>Splits text into plain segments and added tokens (leftmost, then longest), honouring
    /// lstrip/rstrip.</summary>
    private IEnumerable<(string Segment, AddedToken? Added)> SplitAddedTokens(string text)
    {
        if (_addedPattern is null)
        {
            yield return (text, null);
            yield break;
        }
        int last = 0;
        foreach (Match m in _addedPattern.Matches(text))
        {
            var token = _addedByContent[m.Value];
            int start = m.Index,
                end = m.Index + m.Length;
            if (start < last)
                continue; // swallowed by the previous token's rstrip
            int segmentEnd = start;
            if (token.LStrip)
                while (segmentEnd > last && char.IsWhiteSpace(text[segmentEnd - 1]))
                    segmentEnd--;
            if (segmentEnd > last)
                yield return (text[last..segmentEnd], null);
            yield return (m.Value, token);
            if (token.RStrip)
                while (end < text.Length && char.IsWhiteSpace(text[end]))
                    end++;
            last = end;
        }
        if (last < text.Length)
            yield return (text[last..], null);
    }
}
