using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AlignCluster.Models.Nn;

/// <summary>
/// The few things TorchSharp 0.107 lacks or gets dangerously wrong, each as small as the gap: a shape-checked matmul
/// (a mismatched <c>torch.matmul</c> aborts the process instead of throwing), a functional embedding lookup, attention
/// with an explicit scale and grouped-query heads, and the data pointer of a tensor (for the mapped safetensors copy
/// and the collectives).
/// </summary>
public static class TorchGaps
{
    /// <summary>
    /// <c>a @ b</c> with torch.matmul's broadcasting rules checked first: libtorch's matmul aborts the process (exit
    /// 134) on mismatched inner dimensions, so we throw an <see cref="ArgumentException"/> naming both shapes instead.
    /// </summary>
    public static Tensor MatMul(Tensor a, Tensor b)
    {
        if (a.ndim == 0 || b.ndim == 0)
            throw new ArgumentException($"matmul needs tensors of at least 1 dimension, got {Shape(a)} and {Shape(b)}");
        long inner = a.shape[^1];
        long other = b.ndim == 1 ? b.shape[0] : b.shape[^2];
        if (inner != other)
            throw new ArgumentException($"matmul shape mismatch: {Shape(a)} @ {Shape(b)} ({inner} ≠ {other})");
        if (a.ndim > 2 && b.ndim > 2)
        {
            // Batch dimensions must broadcast: equal, or one of them 1, aligned from the right.
            var ba = a.shape[..^2];
            var bb = b.shape[..^2];
            for (int i = 1; i <= Math.Min(ba.Length, bb.Length); i++)
            {
                long x = ba[^i],
                    y = bb[^i];
                if (x != y && x != 1 && y != 1)
                    throw new ArgumentException($"matmul batch dimensions do not broadcast: {Shape(a)} @ {Shape(b)}");
            }
        }
        return torch.matmul(a, b);
    }

    /// <summary>Rows of <paramref name="weight"/> (num, dim) at Int64 <paramref name="ids"/>: (…) → (…, dim).</summary>
    public static Tensor Embedding(Tensor ids, Tensor weight)
    {
        using var scope = torch.NewDisposeScope();
        var shape = ids.shape.Append(weight.shape[1]).ToArray();
        return weight.index_select(0, ids.reshape(-1)).view(shape).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// softmax(q·kᵀ·scale + mask)·v. q (B, H, T, D); k, v (B, KV, S, D) with H a multiple of KV (grouped-query
    /// attention: each key/value head serves H/KV query heads). <paramref name="mask"/> is Bool (true = may attend),
    /// broadcastable to (B, H, T, S), or null with <paramref name="causal"/>. TorchSharp's SDPA has neither a scale nor
    /// GQA, so a scale other than 1/√D is folded into q, and kv heads are repeated.
    /// </summary>
    public static Tensor Attention(Tensor q, Tensor k, Tensor v, Tensor? mask, bool causal, double? scale = null)
    {
        using var scope = torch.NewDisposeScope();
        long heads = q.shape[1],
            kvHeads = k.shape[1];
        if (heads % kvHeads != 0)
            throw new ArgumentException(
                $"attention: {heads} query heads are not a multiple of {kvHeads} key/value heads"
            );
        k = RepeatKv(k, heads / kvHeads);
        v = RepeatKv(v, heads / kvHeads);
        double d = q.shape[^1];
        if (scale is { } s && Math.Abs(s - 1 / Math.Sqrt(d)) > 1e-12)
            q = q * (s * Math.Sqrt(d));
        var y = torch.nn.functional.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask: mask,
            is_casual: causal && mask is null
        );
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>Grouped-query attention: (B, KV, S, D) → (B, KV·groups, S, D), each kv head serving <paramref
    /// name="groups"/> query heads.</summary>
    public static Tensor RepeatKv(Tensor x, long groups)
    {
        if (groups == 1)
            return x;
        long b = x.shape[0],
            kv = x.shape[1],
            s = x.shape[2],
            d = x.shape[3];
        return x.unsqueeze(2).expand(b, kv, groups, s, d).reshape(b, kv * groups, s, d);
    }

    /// <summary>
    /// Copies <paramref name="state"/> into the module's parameters and buffers (across devices and dtypes) after
    /// checking every name and shape: TorchSharp's load_state_dict does not name the keys it rejects. Nothing is
    /// modified when a key is missing, unexpected or mis-shaped; the message lists them.
    /// </summary>
    public static void LoadStateDict(nn.Module module, IReadOnlyDictionary<string, Tensor> state)
    {
        var own = module.state_dict();
        var problems = new List<string>();
        problems.AddRange(own.Keys.Where(k => !state.ContainsKey(k)).Select(k => $"missing '{k}'"));
        problems.AddRange(state.Keys.Where(k => !own.ContainsKey(k)).Select(k => $"unexpected '{k}'"));
        foreach (var (name, target) in own)
            if (state.TryGetValue(name, out var source) && !source.shape.SequenceEqual(target.shape))
                problems.Add($"'{name}' is {Shape(source)} in the state but {Shape(target)} in the model");
        if (problems.Count > 0)
            throw new ArgumentException(
                $"state does not fit {module.GetType().Name}: {string.Join("; ", problems.Take(20))}"
                    + (problems.Count > 20 ? $"; … and {problems.Count - 20} more" : "")
            );
        using var noGrad = torch.no_grad();
        foreach (var (name, target) in own)
            target.copy_(state[name]);
    }

    /// <summary>The address of a tensor's first element (CPU memory, or a device pointer for CUDA tensors).</summary>
    public static IntPtr DataPointer(Tensor t) => THSTensor_data(t.Handle);

    /// <summary>
    /// Our one-line message for a libtorch error that TorchSharp surfaced as an <see cref="ExternalException"/>: its
    /// first
    /// line, without the C++ source location and stack that libtorch appends ("Exception raised from …").
    /// </summary>
    public static string Message(ExternalException e)
    {
        string text = e.Message;
        int cut = text.IndexOf("Exception raised from", StringComparison.Ordinal);
        if (cut >= 0)
            text = text[..cut];
        var first = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .FirstOrDefault();
        return "libtorch: " + (string.IsNullOrEmpty(first) ? e.GetType().Name : first);
    }

    /// <summary>Runs <paramref name="work"/> and turns a libtorch error into an <see cref="ArgumentException"/> with
    /// <see cref="Message"/>, prefixed by <paramref name="what"/> (the operation that failed).</summary>
    public static T Checked<T>(string what, Func<T> work)
    {
        try
        {
            return work();
        }
        catch (ExternalException e)
        {
            throw new ArgumentException($"{what}: {Message(e)}", e);
        }
    }

    /// <summary>"[2, 3]", as our messages print shapes.</summary>
    public static string Shape(Tensor t) => "[" + string.Join(", ", t.shape) + "]";

    [DllImport("LibTorchSharp")]
    private static extern IntPtr THSTensor_data(IntPtr handle);
}

/// <summary>
/// RMSNorm (Llama): x / sqrt(mean(x², last dim) + eps) · weight (TorchSharp has no RMSNorm). Half-precision input is
/// normalized in float32 and cast back before the weight, as Hugging Face's LlamaRMSNorm does.
/// </summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly double _eps;

    public RmsNorm(long dim, double eps, ScalarType dtype, Device device)
        : base("RmsNorm")
    {
        _eps = eps;
        weight = new Parameter(torch.ones(dim, dtype: dtype, device: device));
        weight.DetachFromDisposeScope();
        RegisterComponents();
    }

    public Parameter Weight => weight;

    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        var x = input.dtype is ScalarType.Float16 or ScalarType.BFloat16 ? input.to_type(ScalarType.Float32) : input;
        var normalized = x * (x.square().mean([-1], keepdim: true) + _eps).rsqrt(); // (…, C)
        return (normalized.to_type(input.dtype) * weight).MoveToOuterDisposeScope();
    }
}
