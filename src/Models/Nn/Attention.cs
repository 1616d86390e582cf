using TorchSharp;
using static TorchSharp.torch;

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
    /// Builds the context for <paramref name="t"/> new tokens per row (inside the caller's dispose scope).
    /// <paramref name="attentionMask"/> is (B, S) with 1 for real tokens and 0 for padding, covering the cached
    /// positions and the new ones (S = past + T); null means no padding. Positions count real tokens only, so
    /// left-padded rows start at 0 (as HF does).
    /// </summary>
    public static ForwardContext Create(
        long b,
        long t,
        Tensor? attentionMask,
        KvCache? cache,
        int? slidingWindow,
        Device device
    )
    {
        long past = cache?.Length ?? 0,
            s = past + t;
        if (attentionMask is null && past == 0 && (slidingWindow is null || slidingWindow >= t))
            return new ForwardContext
            {
                Positions = torch.arange(t, device: device).unsqueeze(0).expand(b, t),
                Mask = null,
                Cache = cache,
            };

        var queryIndex = torch.arange(past, s, 1, device: device).view(t, 1); // (T, 1) absolute index of each query
        var keyIndex = torch.arange(s, device: device).view(1, s); // (1, S)
        var allowed = keyIndex.le(queryIndex); // (T, S) causal
        if (slidingWindow is { } w)
            allowed = allowed.logical_and((queryIndex - keyIndex).lt(w));
        allowed = allowed.view(1, 1, t, s); // (1, 1, T, S)
        Tensor positions;
        if (attentionMask is not null)
        {
            if (attentionMask.ndim != 2 || attentionMask.shape[0] != b || attentionMask.shape[1] != s)
                throw new ArgumentException(
                    $"attention mask must be ({b}, {s}) = (batch, cached + new tokens), got "
                        + $"{TorchGaps.Shape(attentionMask)}"
                );
            var valid = attentionMask.to_type(ScalarType.Bool).view(b, 1, 1, s);
            // A query always sees itself, so rows of padding never attend to nothing (which would give NaN).
            var self = keyIndex.eq(queryIndex).view(1, 1, t, s);
            allowed = allowed.logical_and(valid).logical_or(self); // (B, 1, T, S)
            positions = (attentionMask.to_type(ScalarType.Int64).cumsum(1) - 1).clamp_min(0).narrow(1, past, t);
        }
        else
        {
            positions = torch.arange(past, s, 1, device: device).unsqueeze(0).expand(b, t);
        }
        return new ForwardContext
        {
            Positions = positions,
            Mask = allowed.expand(b, 1, t, s),
            Cache = cache,
        };
    }
}

/// <summary>Attention pieces shared by GPT-2 and Llama.</summary>
internal static class AttentionOps
{
    /// <summary>(B, T, H·D) → (B, H, T, D).</summary>
    public static Tensor SplitHeads(Tensor x, long heads, long headDim) =>
        x.view(x.shape[0], x.shape[1], heads, headDim).transpose(1, 2);

    /// <summary>(B, H, T, D) → (B, T, H·D).</summary>
    public static Tensor MergeHeads(Tensor x)
    {
        long b = x.shape[0],
            h = x.shape[1],
            t = x.shape[2],
            d = x.shape[3];
        return x.transpose(1, 2).contiguous().view(b, t, h * d);
    }

    /// <summary>
    /// softmax(q·kᵀ/√D + mask)·v with past keys/values from the cache. q (B, H, T, D); k, v (B, KV, T, D).
    /// Returns (B, H, T, D).
    /// </summary>
    public static Tensor Attend(Tensor q, Tensor k, Tensor v, int layer, ForwardContext ctx)
    {
        if (ctx.Cache is { } cache)
            (k, v) = cache.Append(layer, k, v); // (B, KV, S, D)
        return TorchGaps.Attention(q, k, v, ctx.Mask, causal: ctx.Mask is null);
    }
}
