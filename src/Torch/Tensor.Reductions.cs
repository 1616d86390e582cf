using AlignCluster.Torch.Native;
using static AlignCluster.Torch.Native.NativeMethods;

namespace AlignCluster.Torch;

// Reductions, softmax family, sorting and sampling.
public partial class Tensor
{
    private unsafe Tensor Reduce(ReduceOp op, ReadOnlySpan<long> dims, bool keepDim)
    {
        fixed (long* d = dims) return Wrap(act_reduce_dims(op, this, d, dims.Length, keepDim ? 1 : 0));
    }

    /// <summary>Sum of all elements (0-dim).</summary>
    public Tensor Sum() => Wrap(act_reduce_all(ReduceOp.Sum, this));
    /// <summary>Sum over <paramref name="dim"/>.</summary>
    public Tensor Sum(long dim, bool keepDim = false) => Reduce(ReduceOp.Sum, [dim], keepDim);
    /// <summary>Sum over several dims.</summary>
    public Tensor Sum(ReadOnlySpan<long> dims, bool keepDim = false) => Reduce(ReduceOp.Sum, dims, keepDim);

    /// <summary>Mean of all elements (0-dim).</summary>
    public Tensor Mean() => Wrap(act_reduce_all(ReduceOp.Mean, this));
    /// <summary>Mean over <paramref name="dim"/>.</summary>
    public Tensor Mean(long dim, bool keepDim = false) => Reduce(ReduceOp.Mean, [dim], keepDim);
    /// <summary>Mean over several dims.</summary>
    public Tensor Mean(ReadOnlySpan<long> dims, bool keepDim = false) => Reduce(ReduceOp.Mean, dims, keepDim);

    /// <summary>Largest element (0-dim).</summary>
    public Tensor Max() => Wrap(act_reduce_all(ReduceOp.Amax, this));
    /// <summary>Largest values over <paramref name="dim"/> (see <see cref="MaxWithIndices"/> for positions).</summary>
    public Tensor Max(long dim, bool keepDim = false) => Reduce(ReduceOp.Amax, [dim], keepDim);
    /// <summary>Smallest element (0-dim).</summary>
    public Tensor Min() => Wrap(act_reduce_all(ReduceOp.Amin, this));
    /// <summary>Smallest values over <paramref name="dim"/>.</summary>
    public Tensor Min(long dim, bool keepDim = false) => Reduce(ReduceOp.Amin, [dim], keepDim);

    /// <summary>Largest values over <paramref name="dim"/> and their indices.</summary>
    public unsafe (Tensor Values, Tensor Indices) MaxWithIndices(long dim, bool keepDim = false)
    {
        nint indices;
        var values = Wrap(act_minmax_dim(0, this, dim, keepDim ? 1 : 0, &indices));
        return (values, new Tensor(indices));
    }

    /// <summary>Smallest values over <paramref name="dim"/> and their indices.</summary>
    public unsafe (Tensor Values, Tensor Indices) MinWithIndices(long dim, bool keepDim = false)
    {
        nint indices;
        var values = Wrap(act_minmax_dim(1, this, dim, keepDim ? 1 : 0, &indices));
        return (values, new Tensor(indices));
    }

    /// <summary>Index of the largest element of the flattened tensor.</summary>
    public Tensor Argmax() => Wrap(act_arg_reduce(0, this, 0, 0, 0));
    /// <summary>Indices of the largest elements along <paramref name="dim"/>.</summary>
    public Tensor Argmax(long dim, bool keepDim = false) => Wrap(act_arg_reduce(0, this, dim, 1, keepDim ? 1 : 0));
    /// <summary>Index of the smallest element of the flattened tensor.</summary>
    public Tensor Argmin() => Wrap(act_arg_reduce(1, this, 0, 0, 0));
    /// <summary>Indices of the smallest elements along <paramref name="dim"/>.</summary>
    public Tensor Argmin(long dim, bool keepDim = false) => Wrap(act_arg_reduce(1, this, dim, 1, keepDim ? 1 : 0));

    /// <summary>Product of all elements.</summary>
    public Tensor Prod() => Wrap(act_reduce_all(ReduceOp.Prod, this));
    /// <summary>Product over <paramref name="dim"/>.</summary>
    public Tensor Prod(long dim, bool keepDim = false) => Reduce(ReduceOp.Prod, [dim], keepDim);
    /// <summary>Unbiased variance of all elements.</summary>
    public Tensor Var() => Wrap(act_reduce_all(ReduceOp.Var, this));
    /// <summary>Unbiased variance over <paramref name="dim"/>.</summary>
    public Tensor Var(long dim, bool keepDim = false) => Reduce(ReduceOp.Var, [dim], keepDim);
    /// <summary>Unbiased standard deviation of all elements.</summary>
    public Tensor Std() => Wrap(act_reduce_all(ReduceOp.Std, this));
    /// <summary>Unbiased standard deviation over <paramref name="dim"/>.</summary>
    public Tensor Std(long dim, bool keepDim = false) => Reduce(ReduceOp.Std, [dim], keepDim);
    /// <summary>Euclidean norm of all elements.</summary>
    public Tensor Norm() => Wrap(act_reduce_all(ReduceOp.Norm, this));
    /// <summary>Euclidean norm over <paramref name="dim"/>.</summary>
    public Tensor Norm(long dim, bool keepDim = false) => Reduce(ReduceOp.Norm, [dim], keepDim);

    /// <summary>True when any element is non-zero (Bool, 0-dim).</summary>
    public Tensor Any() => Wrap(act_reduce_all(ReduceOp.Any, this));
    /// <summary>True where any element along <paramref name="dim"/> is non-zero.</summary>
    public Tensor Any(long dim, bool keepDim = false) => Reduce(ReduceOp.Any, [dim], keepDim);
    /// <summary>True when every element is non-zero (Bool, 0-dim).</summary>
    public Tensor All() => Wrap(act_reduce_all(ReduceOp.All, this));
    /// <summary>True where every element along <paramref name="dim"/> is non-zero.</summary>
    public Tensor All(long dim, bool keepDim = false) => Reduce(ReduceOp.All, [dim], keepDim);

    /// <summary>log Σ exp over all elements, computed stably.</summary>
    public Tensor LogSumExp() => Wrap(act_reduce_all(ReduceOp.LogSumExp, this));
    /// <summary>log Σ exp over <paramref name="dim"/>, computed stably.</summary>
    public Tensor LogSumExp(long dim, bool keepDim = false) => Reduce(ReduceOp.LogSumExp, [dim], keepDim);

    /// <summary>exp(x) / Σ exp(x) along <paramref name="dim"/>.</summary>
    public Tensor Softmax(long dim) => Wrap(act_softmax(this, dim));
    /// <summary>x − logsumexp(x) along <paramref name="dim"/>.</summary>
    public Tensor LogSoftmax(long dim) => Wrap(act_log_softmax(this, dim));
    /// <summary>Running sum along <paramref name="dim"/>.</summary>
    public Tensor CumSum(long dim) => Wrap(act_cumsum(this, dim));

    /// <summary>The <paramref name="k"/> largest (or smallest) values along <paramref name="dim"/> and their indices.</summary>
    public unsafe (Tensor Values, Tensor Indices) TopK(long k, long dim = -1, bool largest = true, bool sorted = true)
    {
        nint indices;
        var values = Wrap(act_topk(this, k, dim, largest ? 1 : 0, sorted ? 1 : 0, &indices));
        return (values, new Tensor(indices));
    }

    /// <summary>Values sorted along <paramref name="dim"/> and the permutation that sorts them.</summary>
    public unsafe (Tensor Values, Tensor Indices) Sort(long dim = -1, bool descending = false)
    {
        nint indices;
        var values = Wrap(act_sort(this, dim, descending ? 1 : 0, &indices));
        return (values, new Tensor(indices));
    }

    /// <summary>
    /// Draws <paramref name="samples"/> indices per row from the (unnormalized) probabilities in the last dim.
    /// </summary>
    public Tensor Multinomial(long samples, bool replacement = false, Generator? generator = null)
    {
        var h = act_multinomial(this, samples, replacement ? 1 : 0, Generator.HandleOrZero(generator));
        GC.KeepAlive(generator);
        return Wrap(h);
    }
}
