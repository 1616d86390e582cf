using static AlignCluster.Torch.Native.NativeMethods;

namespace AlignCluster.Torch.NN;

/// <summary>How a loss reduces its per-element values (values match at::Reduction).</summary>
public enum Reduction
{
    /// <summary>Per-element losses.</summary>
    None = 0,
    /// <summary>Their mean (over non-ignored targets for cross-entropy).</summary>
    Mean = 1,
    /// <summary>Their sum.</summary>
    Sum = 2,
}

/// <summary>Stateless neural-network functions (torch.nn.functional).</summary>
public static class Functional
{
    /// <summary>x·Wᵀ + b: <paramref name="weight"/> is (out, in), <paramref name="bias"/> (out) or null.</summary>
    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias = null)
    {
        var h = act_linear(input, weight, Tensor.HandleOrZero(bias));
        GC.KeepAlive(bias);
        return Wrap(h);
    }

    /// <summary>Rows of <paramref name="weight"/> (num, dim) at the Int64 <paramref name="indices"/>: (…) → (…, dim).</summary>
    public static Tensor Embedding(Tensor indices, Tensor weight, long paddingIndex = -1) =>
        Wrap(act_embedding(weight, indices, paddingIndex));

    /// <summary>
    /// Normalizes over the trailing <paramref name="normalizedShape"/> dims to zero mean and unit variance
    /// (biased variance, + eps), then scales by <paramref name="weight"/> and shifts by <paramref name="bias"/>.
    /// </summary>
    public static unsafe Tensor LayerNorm(Tensor input, ReadOnlySpan<long> normalizedShape, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
    {
        nint h;
        fixed (long* s = normalizedShape)
            h = act_layer_norm(input, s, normalizedShape.Length, Tensor.HandleOrZero(weight), Tensor.HandleOrZero(bias), eps);
        GC.KeepAlive(weight);
        GC.KeepAlive(bias);
        return Wrap(h);
    }

    /// <summary>
    /// RMSNorm (Llama): x / sqrt(mean(x², last dim) + eps) · weight. Half-precision input is normalized in float32
    /// and cast back before the weight, as Hugging Face's LlamaRMSNorm does.
    /// </summary>
    public static Tensor RmsNorm(Tensor input, Tensor weight, double eps = 1e-6)
    {
        using var scope = DisposeScope.Begin();
        var x = input.DType is DType.Float16 or DType.BFloat16 ? input.To(DType.Float32) : input;
        var normalized = x * x.Square().Mean(-1, keepDim: true).Add(eps).Rsqrt();
        return scope.MoveOut(normalized.To(input.DType) * weight);
    }

    /// <summary>Zeroes elements with probability <paramref name="p"/> and scales the rest by 1/(1−p) when training.</summary>
    public static Tensor Dropout(Tensor input, double p, bool training) => Wrap(act_dropout(input, p, training ? 1 : 0));

    /// <summary>
    /// Attention softmax(q·kᵀ/√E + mask)·v over the last two dims of (…, L, E) queries and (…, S, E) keys/values.
    /// A Bool <paramref name="mask"/> marks positions that take part; a float mask is added to the scores.
    /// <paramref name="isCausal"/> masks keys after each query. Uses libtorch's fused kernel when it has one
    /// (<see cref="LibTorch.HasFusedAttention"/>), otherwise composes matmul, masked_fill, softmax and dropout.
    /// </summary>
    public static Tensor ScaledDotProductAttention(Tensor query, Tensor key, Tensor value, Tensor? mask = null,
        double dropoutP = 0, bool isCausal = false) => Attention(query, key, value, mask, dropoutP, isCausal, allowFused: true);

    /// <summary>The composed attention (never the fused kernel): the reference the fused one is tested against.</summary>
    public static Tensor ComposedScaledDotProductAttention(Tensor query, Tensor key, Tensor value, Tensor? mask = null,
        double dropoutP = 0, bool isCausal = false) => Attention(query, key, value, mask, dropoutP, isCausal, allowFused: false);

    private static Tensor Attention(Tensor q, Tensor k, Tensor v, Tensor? mask, double dropoutP, bool isCausal, bool allowFused)
    {
        var h = act_sdpa(q, k, v, Tensor.HandleOrZero(mask), dropoutP, isCausal ? 1 : 0, allowFused ? 1 : 0);
        GC.KeepAlive(mask);
        return Wrap(h);
    }

    /// <summary>
    /// Cross-entropy of (N, C) or (N, C, d…) logits against Int64 class targets: −log softmax(logits)[target],
    /// skipping targets equal to <paramref name="ignoreIndex"/>.
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor target, Reduction reduction = Reduction.Mean, long ignoreIndex = -100, double labelSmoothing = 0) =>
        Wrap(act_cross_entropy(logits, target, (long)reduction, ignoreIndex, labelSmoothing));

    /// <summary>(a − b)², reduced.</summary>
    public static Tensor MseLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean) =>
        Wrap(act_mse_loss(input, target, (long)reduction));
}
