using AlignCluster.Torch;
using AlignCluster.Torch.NN;

namespace AlignCluster.Models.Nn;

/// <summary>
/// What every layer of one forward pass shares: token positions, the attention mask and the KV cache.
/// Built by <see cref="CausalLM.Forward"/>.
/// </summary>
public sealed class ForwardContext
{
    /// <summary>(B, T) Int64 positions of the new tokens (padding-aware).</summary>
    public required Tensor Positions { get; init; }

    /// <summary>(B, 1, T, S) Bool, true where a query may attend to a key; null means plain causal attention.</summary>
    public Tensor? Mask { get; init; }

    /// <summary>The cache to read past keys/values from and append to, or null.</summary>
    public KvCache? Cache { get; init; }

    /// <summary>
    /// Builds the context for <paramref name="t"/> new tokens per row. <paramref name="attentionMask"/> is (B, S) with
    /// 1 for real tokens and 0 for padding, covering the cached positions and the new ones (S = past + T); null means
    /// no padding. Positions count real tokens only, so left-padded rows start at 0 (as HF does).
    /// </summary>
    public static ForwardContext Create(long b, long t, Tensor? attentionMask, KvCache? cache, int? slidingWindow)
    {
        long past = cache?.Length ?? 0, s = past + t;
        if (attentionMask is null && past == 0 && (slidingWindow is null || slidingWindow >= t))
            return new ForwardContext { Positions = Tensor.Arange(t).Unsqueeze(0).Expand(b, t), Mask = null, Cache = cache };

        Tensor positions;
        using var scope = DisposeScope.Begin();
        var queryIndex = Tensor.Arange(past, s, 1).View(t, 1);   // (T, 1) absolute index of each query
        var keyIndex = Tensor.Arange(s).View(1, s);              // (1, S)
        var allowed = keyIndex.Le(queryIndex);                   // (T, S) causal
        if (slidingWindow is { } w) allowed = allowed.LogicalAnd(queryIndex.Sub(keyIndex).Lt(w));
        allowed = allowed.View(1, 1, t, s);                      // (1, 1, T, S)
        if (attentionMask is not null)
        {
            if (attentionMask.Shape is not [var mb, var ms] || mb != b || ms != s)
                throw new ArgumentException($"attention mask must be ({b}, {s}) = (batch, cached + new tokens), got [{string.Join(", ", attentionMask.Shape)}]");
            var valid = attentionMask.To(DType.Bool).View(b, 1, 1, s);
            // A query always sees itself, so rows of padding never attend to nothing (which would give NaN).
            var self = keyIndex.Eq(queryIndex).View(1, 1, t, s);
            allowed = allowed.LogicalAnd(valid).LogicalOr(self);  // (B, 1, T, S)
            positions = attentionMask.To(DType.Int64).CumSum(1).Sub(1).ClampMin(0).Narrow(1, past, t);
        }
        else
        {
            positions = Tensor.Arange(past, s, 1).Unsqueeze(0).Expand(b, t);
        }
        allowed = allowed.Expand(b, 1, t, s);
        return new ForwardContext
        {
            Positions = scope.MoveOut(positions),
            Mask = scope.MoveOut(allowed),
            Cache = cache,
        };
    }
}

/// <summary>Attention pieces shared by GPT-2 and Llama.</summary>
internal static class AttentionOps
{
    /// <summary>(B, T, H·D) → (B, H, T, D).</summary>
    public static Tensor SplitHeads(Tensor x, long heads, long headDim)
    {
        long b = x.Size(0), t = x.Size(1);
        return x.View(b, t, heads, headDim).Transpose(1, 2);
    }

    /// <summary>(B, H, T, D) → (B, T, H·D).</summary>
    public static Tensor MergeHeads(Tensor x)
    {
        long b = x.Size(0), h = x.Size(1), t = x.Size(2), d = x.Size(3);
        return x.Transpose(1, 2).Contiguous().View(b, t, h * d);
    }

    /// <summary>Grouped-query attention: (B, KV, S, D) → (B, KV·groups, S, D), each kv head serving <paramref name="groups"/> query heads.</summary>
    public static Tensor RepeatKv(Tensor x, long groups)
    {
        if (groups == 1) return x;
        long b = x.Size(0), kv = x.Size(1), s = x.Size(2), d = x.Size(3);
        return x.Unsqueeze(2).Expand(b, kv, groups, s, d).Reshape(b, kv * groups, s, d);
    }

    /// <summary>
    /// softmax(q·kᵀ/√D + mask)·v with past keys/values from the cache. q (B, H, T, D); k, v (B, KV, T, D).
    /// Returns (B, H, T, D).
    /// </summary>
    public static Tensor Attend(Tensor q, Tensor k, Tensor v, int layer, ForwardContext ctx)
    {
        if (ctx.Cache is { } cache) (k, v) = cache.Append(layer, k, v); // (B, KV, S, D)
        long groups = q.Size(1) / k.Size(1);
        var kr = RepeatKv(k, groups);
        var vr = RepeatKv(v, groups);
        return ctx.Mask is null
            ? Functional.ScaledDotProductAttention(q, kr, vr, isCausal: true)
            : Functional.ScaledDotProductAttention(q, kr, vr, ctx.Mask);
    }
}
