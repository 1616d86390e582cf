namespace AlignCluster.Models.Tokenization;

/// <summary>
/// The BPE model of tokenizer.json: a vocabulary and ranked merges. A word starts as one symbol per character
/// (unknown characters become their UTF-8 bytes as <c>&lt;0xXX&gt;</c> tokens when <see cref="ByteFallback"/> is on,
/// else the unk token); then the adjacent pair with the lowest merge rank is merged, leftmost first, until no
/// pair has a merge — the same result as GPT-2's reference loop, in O(n log n).
/// </summary>
public sealed class BpeModel
{
    private readonly Dictionary<string, int> _vocab;
    private readonly string[] _idToToken;
    private readonly Dictionary<(int Left, int Right), (int Rank, int Merged)> _merges = new();

    /// <summary>Token → id.</summary>
    public IReadOnlyDictionary<string, int> Vocab => _vocab;

    /// <summary>Merges in rank order.</summary>
    public IReadOnlyList<(string Left, string Right)> Merges { get; }

    /// <summary>Characters missing from the vocabulary become byte tokens <c>&lt;0xXX&gt;</c> (SentencePiece
    /// style).</summary>
    public bool ByteFallback { get; init; }

    /// <summary>Look the whole word up before merging (Llama-3's tokenizer.json sets this).</summary>
    public bool IgnoreMerges { get; init; }

    /// <summary>Consecutive unknown characters collapse into one unk token.</summary>
    public bool FuseUnk { get; init; }

    /// <summary>The unknown token, if the model has one.</summary>
    public string? UnkToken { get; init; }

    public BpeModel(IReadOnlyDictionary<string, int> vocab, IReadOnlyList<(string Left, string Right)> merges)
    {
        _vocab = new Dictionary<string, int>(vocab);
        int size = vocab.Count == 0 ? 0 : vocab.Values.Max() + 1;
        _idToToken = new string[size];
        foreach (var (token, id) in vocab)
            _idToToken[id] = token;
        Merges = merges;
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (l, r) = merges[rank];
            if (
                !_vocab.TryGetValue(l, out int li)
                || !_vocab.TryGetValue(r, out int ri)
                || !_vocab.TryGetValue(l + r, out int mi)
            )
                throw new FormatException($"merge {rank} '{l} {r}' uses a token missing from the vocabulary");
            _merges.TryAdd((li, ri), (rank, mi)); // a repeated merge keeps its first (lowest) rank
        }
    }

    /// <summary>Largest id + 1.</summary>
    public int Size => _idToToken.Length;

    /// <summary>The token string of an id, or null for a gap in the id space.</summary>
    public string? TokenOf(int id) => id >= 0 && id < _idToToken.Length ? _idToToken[id] : null;

    /// <summary>Appends the ids of one pre-tokenized word.</summary>
    public void Tokenize(string word, List<int> output)
    {
        if (word.Length == 0)
            return;
        if (IgnoreMerges && _vocab.TryGetValue(word, out int whole))
        {
            output.Add(whole);
            return;
        }
        var ids = InitialSymbols(word);
        Merge(ids);
        output.AddRange(ids);
    }

    private List<int> InitialSymbols(string word)
    {
        var ids = new List<int>(word.Length);
        bool previousWasUnk = false;
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in word.EnumerateRunes())
        {
            string symbol = rune.ToString();
            if (_vocab.TryGetValue(symbol, out int id))
            {
                ids.Add(id);
                previousWasUnk = false;
                continue;
            }
            if (ByteFallback)
            {
                int n = rune.EncodeToUtf8(utf8);
                var byteIds = new List<int>(n);
                for (int i = 0; i < n; i++)
                    if (_vocab.TryGetValue($"<0x{utf8[i]:X2}>", out int b))
                        byteIds.Add(b);
                if (byteIds.Count == n)
                {
                    ids.AddRange(byteIds);
                    previousWasUnk = false;
                    continue;
                }
            }
            if (UnkToken is null || !_vocab.TryGetValue(UnkToken, out int unk))
                throw new TokenizerException(
                    $"character U+{rune.Value:X4} is not in the vocabulary and the BPE model has no unk token or "
                        + "byte fallback"
                );
            if (!(FuseUnk && previousWasUnk))
                ids.Add(unk);
            previousWasUnk = true;
        }
        return ids;
    }

    private void Merge(List<int> ids)
    {
        int n = ids.Count;
        if (n < 2)
            return;
        var next = new int[n];
        var prev = new int[n];
        var alive = new bool[n];
        for (int i = 0; i < n; i++)
        {
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
            alive[i] = true;
        }

        var queue = new PriorityQueue<int, (int Rank, int Pos)>();
        void Consider(int pos)
        {
            if (pos < 0 || next[pos] < 0)
                return;
            if (_merges.TryGetValue((ids[pos], ids[next[pos]]), out var m))
                queue.Enqueue(pos, (m.Rank, pos));
        }
        for (int i = 0; i < n - 1; i++)
            Consider(i);

        while (queue.TryDequeue(out int pos, out var priority))
        {
            if (!alive[pos] || next[pos] < 0)
                continue;
            int right = next[pos];
            // The entry is stale when either symbol changed since it was queued.
            if (!_merges.TryGetValue((ids[pos], ids[right]), out var m) || m.Rank != priority.Rank)
                continue;
            ids[pos] = m.Merged;
            alive[right] = false;
            next[pos] = next[right];
            if (next[right] >= 0)
                prev[next[right]] = pos;
            Consider(prev[pos]);
            Consider(pos);
        }

        int w = 0;
        for (int i = 0; i >= 0 && i < n; i = next[i])
            ids[w++] = ids[i];
        ids.RemoveRange(w, n - w);
    }

    /// <summary>"&lt;0x41&gt;" → 0x41; false for any other token.</summary>
    public static bool TryParseByteToken(string token, out byte value)
    {
        value = 0;
        return token.Length == 6
            && token.StartsWith("<0x", StringComparison.Ordinal)
            && token[5] == '>'
            && byte.TryParse(token.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out value);
    }
}
