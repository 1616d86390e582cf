using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Models.Nn;

/// <summary>
/// Keys and values of the tokens already processed, per layer, shaped (B, kv_heads, S, head_dim) — stored before
/// grouped-query heads are repeated, and (Llama) after RoPE. Owned tensors live outside dispose scopes; dispose the
/// cache.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly Tensor?[] _keys;
    private readonly Tensor?[] _values;

    public KvCache(int layers)
    {
        _keys = new Tensor?[layers];
        _values = new Tensor?[layers];
    }

    /// <summary>Number of cached positions (S).</summary>
    public long Length { get; private set; }

    /// <summary>Batch size of the cached tensors (0 when empty).</summary>
    public long BatchSize => _keys[0]?.shape[0] ?? 0;

    /// <summary>
    /// Appends this step's keys/values (B, kv_heads, T, D) for <paramref name="layer"/> and returns the full
    /// (B, kv_heads, S + T, D) tensors (owned by the cache: do not dispose them).
    /// </summary>
    public (Tensor Keys, Tensor Values) Append(int layer, Tensor keys, Tensor values)
    {
        var k = Concat(_keys[layer], keys);
        var v = Concat(_values[layer], values);
        _keys[layer]?.Dispose();
        _values[layer]?.Dispose();
        _keys[layer] = k;
        _values[layer] = v;
        if (layer == _keys.Length - 1)
            Length = k.shape[2];
        return (k, v);
    }

    private static Tensor Concat(Tensor? past, Tensor now) =>
        (past is null ? now.contiguous() : torch.cat([past, now], 2)).DetachFromDisposeScope();

    /// <summary>
    /// A new cache whose batch holds <paramref name="copies"/> copies of this single-row cache: the prompt's cache
    /// shared by K candidates. (B must be 1.)
    /// </summary>
    public KvCache Repeat(long copies)
    {
        if (BatchSize != 1)
            throw new InvalidOperationException(
                $"only a batch-1 cache can be repeated (this one has {BatchSize} rows)"
            );
        var result = new KvCache(_keys.Length) { Length = Length };
        for (int i = 0; i < _keys.Length; i++)
        {
            result._keys[i] = Expand(_keys[i]!, copies);
            result._values[i] = Expand(_values[i]!, copies);
        }
        return result;
    }

    /// <summary>
    /// A new cache whose row i is this cache's row <paramref name="rows"/>[i] (an Int64 (N) index): P prompts' caches
    /// fanned out to their N candidates.
    /// </summary>
    public KvCache SelectRows(Tensor rows)
    {
        var result = new KvCache(_keys.Length) { Length = Length };
        for (int i = 0; i < _keys.Length; i++)
        {
            result._keys[i] = _keys[i]!.index_select(0, rows).DetachFromDisposeScope();
            result._values[i] = _values[i]!.index_select(0, rows).DetachFromDisposeScope();
        }
        return result;
    }

    private static Tensor Expand(Tensor t, long copies)
    {
        var shape = t.shape;
        shape[0] = copies;
        return t.expand(shape).DetachFromDisposeScope(); // a view: no copy until the next Append concatenates
    }

    public void Dispose()
    {
        foreach (var t in _keys.Concat(_values))
            t?.Dispose();
        Array.Clear(_keys);
        Array.Clear(_values);
        Length = 0;
    }
}
