using AlignCluster.Torch.NN;
using F = AlignCluster.Torch.NN.Functional;

namespace AlignCluster.Torch.Tests;

/// <summary>Op results against values computed independently: plain C# loops over the same inputs, or by hand.</summary>
public class OpValueTests
{
    private static double[] Values(Tensor t) => t.To(DType.Float64).ToArray<double>();

    private static void Near(double[] expected, double[] actual, double tol = 1e-9)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * (1 + Math.Abs(expected[i])), $"[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
    }

    /// <summary>Deterministic, irregular test values in about [−2, 2].</summary>
    internal static double[] Seq(int n) => Enumerable.Range(0, n).Select(i => Math.Sin(i * 1.7 + 0.3) * 2 + i * 0.01).ToArray();

    [Fact]
    public void MatMul_equals_triple_loop()
    {
        using var scope = DisposeScope.Begin();
        const int n = 5, k = 7, m = 3;
        var a = Seq(n * k);
        var b = Seq(k * m).Select(v => v * 0.5 + 0.1).ToArray();
        var expected = new double[n * m]; // C# reference: c[i,j] = Σₚ a[i,p]·b[p,j]
        for (var i = 0; i < n; i++)
            for (var j = 0; j < m; j++)
                for (var p = 0; p < k; p++) expected[i * m + j] += a[i * k + p] * b[p * m + j];
        Near(expected, Values(Tensor.From<double>(a, n, k).MatMul(Tensor.From<double>(b, k, m))));
        // float32 GEMM (BLAS) agrees to single precision
        var a32 = Tensor.From<double>(a, n, k).To(DType.Float32);
        Near(expected, Values(a32.MatMul(Tensor.From<double>(b, k, m).To(DType.Float32))), 1e-5);
    }

    [Fact]
    public void Softmax_LogSoftmax_LogSumExp_equal_loops()
    {
        using var scope = DisposeScope.Begin();
        const int rows = 3, cols = 4;
        var x = Seq(rows * cols);
        var softmax = new double[x.Length];
        var logSoftmax = new double[x.Length];
        var lse = new double[rows];
        for (var r = 0; r < rows; r++)
        {
            var max = Enumerable.Range(0, cols).Max(c => x[r * cols + c]);
            var sum = Enumerable.Range(0, cols).Sum(c => Math.Exp(x[r * cols + c] - max));
            lse[r] = max + Math.Log(sum);
            for (var c = 0; c < cols; c++)
            {
                softmax[r * cols + c] = Math.Exp(x[r * cols + c] - lse[r]);
                logSoftmax[r * cols + c] = x[r * cols + c] - lse[r];
            }
        }
        var t = Tensor.From<double>(x, rows, cols);
        Near(softmax, Values(t.Softmax(-1)));
        Near(logSoftmax, Values(t.LogSoftmax(1)));
        Near(lse, Values(t.LogSumExp(-1)));
    }

    [Fact]
    public void Elementwise_functions_equal_their_formulas()
    {
        using var scope = DisposeScope.Begin();
        double[] x = [-3.0, -0.7, 0.0, 0.4, 2.5];
        var t = Tensor.From<double>(x);
        static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));
        Near(x.Select(Sigmoid).ToArray(), Values(t.Sigmoid()));
        Near(x.Select(v => Math.Log(Sigmoid(v))).ToArray(), Values(t.LogSigmoid()));
        Near(x.Select(v => Math.Log(1 + Math.Exp(v))).ToArray(), Values(t.Softplus()));
        Near(x.Select(v => v * Sigmoid(v)).ToArray(), Values(t.Silu()));
        Near(x.Select(Math.Tanh).ToArray(), Values(t.Tanh()));
        Near(x.Select(v => Math.Max(v, 0)).ToArray(), Values(t.Relu()));
        Near(x.Select(Math.Exp).ToArray(), Values(t.Exp()));
        Near(x.Select(v => Math.Log(1 + v * v)).ToArray(), Values((t * t).Log1p()));
        // GPT-2's tanh GELU: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
        Near(x.Select(v => 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)))).ToArray(), Values(t.Gelu(true)));
        // exact GELU = x·Φ(x); Φ(1) = 0.8413447460685429 and Φ(−1) = 0.15865525393145707 from the normal table
        Near([0.8413447460685429, -0.15865525393145707], Values(Tensor.From<double>([1.0, -1.0]).Gelu()), 1e-12);
    }

    [Fact]
    public void Integer_scalars_keep_integer_dtype_and_floats_promote()
    {
        using var scope = DisposeScope.Begin();
        var i = Tensor.From<long>([1, 2, 3]);
        Assert.Equal(DType.Int64, (i + 1).DType);
        Assert.Equal(DType.Float32, (i + 1.5).DType);
        Assert.Equal([2.5, 3.5, 4.5], (i + 1.5).To(DType.Float64).ToArray<double>());
        Assert.Equal([1.0, 0.0, -1.0], Values(2.0 - i)); // 2 − [1, 2, 3]
        Near([2.0, 1.0, 2.0 / 3], Values(2.0 / i), 1e-7); // true division into float32
        Assert.Equal(DType.Float32, (Tensor.Ones([2]) * 2.0).DType); // a double scalar does not promote float32
    }

    [Fact]
    public void Reductions_equal_hand_values()
    {
        using var scope = DisposeScope.Begin();
        // [[1, 5, 3], [4, 2, 6]]
        var t = Tensor.From<double>([1, 5, 3, 4, 2, 6], 2, 3);
        Assert.Equal([5.0, 7, 9], Values(t.Sum(0)));
        Assert.Equal([3.0, 4], Values(t.Mean(1)));
        Assert.Equal([5.0, 6], Values(t.Max(1)));
        Assert.Equal([1.0, 2, 3], Values(t.Min(0)));
        Assert.Equal([1L, 2], t.Argmax(1).ToArray<long>());
        Assert.Equal(5L, t.Argmax().ToInt64());
        Assert.Equal([0L, 1, 0], t.Argmin(0).ToArray<long>());
        var (values, indices) = t.MaxWithIndices(0);
        Assert.Equal([4.0, 5, 6], Values(values));
        Assert.Equal([1L, 0, 1], indices.ToArray<long>());
        Assert.Equal(21.0, t.Sum().ToDouble());
        Assert.Equal(720.0, t.Prod().ToDouble());
        Assert.Equal([4.0, 4.0], Values(t.Var(1))); // unbiased: ((1−3)² + (5−3)² + 0²)/2 = 4 and (0² + (−2)² + 2²)/2 = 4
        Assert.Equal([1.0, 6, 9, 4, 6, 12], Values(t.CumSum(1)));
        Assert.True(t.Gt(5).Any().ToBoolean());
        Assert.False(t.Gt(5).All().ToBoolean());
        Assert.Equal([false, true], t.Gt(5).Any(1).ToArray<bool>());
        Assert.Equal([true, true, false], t.Lt(6).All(0).ToArray<bool>());
    }

    [Fact]
    public void CrossEntropy_equals_negative_log_softmax_loop()
    {
        using var scope = DisposeScope.Begin();
        const int n = 4, c = 5;
        var logits = Seq(n * c);
        long[] target = [3, 0, -100, 4];
        double sum = 0; // C# reference: mean over non-ignored rows of −(z[t] − log Σ exp z)
        var count = 0;
        for (var r = 0; r < n; r++)
        {
            if (target[r] == -100) continue;
            var lse = Math.Log(Enumerable.Range(0, c).Sum(j => Math.Exp(logits[r * c + j])));
            sum += lse - logits[r * c + target[r]];
            count++;
        }
        var loss = F.CrossEntropy(Tensor.From<double>(logits, n, c), Tensor.From<long>(target));
        Near([sum / count], [loss.ToDouble()]);
    }

    [Fact]
    public void LayerNorm_equals_loop()
    {
        using var scope = DisposeScope.Begin();
        const int rows = 3, dim = 6;
        const double eps = 1e-5;
        var x = Seq(rows * dim);
        var w = Seq(dim).Select(v => v + 1).ToArray();
        var b = Seq(dim).Select(v => v * 0.3).ToArray();
        var expected = new double[x.Length]; // C# reference: (x − mean)/√(biased var + eps)·w + b per row
        for (var r = 0; r < rows; r++)
        {
            var row = x.Skip(r * dim).Take(dim).ToArray();
            var mean = row.Average();
            var variance = row.Select(v => (v - mean) * (v - mean)).Average();
            for (var j = 0; j < dim; j++) expected[r * dim + j] = (row[j] - mean) / Math.Sqrt(variance + eps) * w[j] + b[j];
        }
        var y = F.LayerNorm(Tensor.From<double>(x, rows, dim), [dim], Tensor.From<double>(w), Tensor.From<double>(b), eps);
        Near(expected, Values(y));
        var rms = new double[x.Length]; // RMSNorm: x/√(mean(x²) + eps)·w
        for (var r = 0; r < rows; r++)
        {
            var ms = Enumerable.Range(0, dim).Average(j => x[r * dim + j] * x[r * dim + j]);
            for (var j = 0; j < dim; j++) rms[r * dim + j] = x[r * dim + j] / Math.Sqrt(ms + eps) * w[j];
        }
        Near(rms, Values(F.RmsNorm(Tensor.From<double>(x, rows, dim), Tensor.From<double>(w), eps)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Attention_equals_loop(bool causal)
    {
        using var scope = DisposeScope.Begin();
        const int l = 3, s = 4, e = 2;
        var q = Seq(l * e);
        var k = Seq(s * e).Select(v => -v).ToArray();
        var v = Seq(s * e).Select(x => x * 0.5 + 1).ToArray();
        var expected = new double[l * e]; // C# reference: softmax_j(q_i·k_j/√e, j ≤ i when causal)·v
        for (var i = 0; i < l; i++)
        {
            var scores = new double[s];
            for (var j = 0; j < s; j++)
                scores[j] = causal && j > i ? double.NegativeInfinity : (q[i * e] * k[j * e] + q[i * e + 1] * k[j * e + 1]) / Math.Sqrt(e);
            var max = scores.Max();
            var weights = scores.Select(x => Math.Exp(x - max)).ToArray();
            var total = weights.Sum();
            for (var j = 0; j < s; j++)
                for (var d = 0; d < e; d++) expected[i * e + d] += weights[j] / total * v[j * e + d];
        }
        var y = F.ScaledDotProductAttention(Tensor.From<double>(q, l, e), Tensor.From<double>(k, s, e), Tensor.From<double>(v, s, e), isCausal: causal);
        Near(expected, Values(y));
    }

    [Fact]
    public void Indexing_ops_equal_hand_values()
    {
        using var scope = DisposeScope.Begin();
        var t = Tensor.From<double>([1, 2, 3, 4, 5, 6], 2, 3); // [[1,2,3],[4,5,6]]
        Assert.Equal([3.0, 1, 5, 5], Values(t.Gather(1, Tensor.From<long>([2, 0, 1, 1], 2, 2))));
        Assert.Equal([4.0, 5, 6, 1, 2, 3], Values(t.IndexSelect(0, Tensor.From<long>([1, 0]))));
        Assert.Equal([4.0, 5, 6, 4, 5, 6], Values(F.Embedding(Tensor.From<long>([1, 1]), t)));
        Assert.Equal([1.0, 2, 3, 0, 5, 6], Values(t.Triu()));
        Assert.Equal([1.0, 0, 0, 4, 5, 0], Values(t.Tril()));
        Assert.Equal([0.0, 2, 3, 0, 0, 6], Values(t.Triu(1)));
        Assert.Equal([-1.0, 2, -1, 4, -1, 6], Values(t.MaskedFill(t.Remainder(2).Eq(1), -1)));
        Assert.Equal([1.0, 2, 3, 4, 4, 4], Values(t.Clamp(max: 4)));
        Assert.Equal([2.0, 2, 3, 4, 5, 5], Values(t.Clamp(2, 5)));
        Assert.Equal([1.0, 0, 3, 0, 5, 0], Values(Tensor.Where(t.Remainder(2).Eq(1), t, 0.0)));
        Assert.Equal([2.0, 5], Values(t.Select(1, 1)));
        Assert.Equal([1.0, 3, 4, 6], Values(t.Slice(1, 0, 3, 2)));
        Assert.Equal([9.0, 1, 2, 3, 9, 9, 9, 4, 5, 6, 9, 9], Values(t.Pad([1, 2], 9))); // 1 before, 2 after along the last dim
        var (top, at) = t.TopK(2, dim: 1);
        Assert.Equal([3.0, 2, 6, 5], Values(top));
        Assert.Equal([2L, 1, 2, 1], at.ToArray<long>());
        var (sorted, order) = Tensor.From<double>([3, 1, 2]).Sort();
        Assert.Equal([1.0, 2, 3], Values(sorted));
        Assert.Equal([1L, 2, 0], order.ToArray<long>());
    }

    [Fact]
    public void Shape_ops_equal_hand_values()
    {
        using var scope = DisposeScope.Begin();
        var t = Tensor.Arange(6, DType.Float64).View(2, 3); // [[0,1,2],[3,4,5]]
        Assert.Equal([0.0, 3, 1, 4, 2, 5], Values(t.T().Contiguous()));
        Assert.Equal([3L, 2], t.Transpose(0, 1).Shape);
        Assert.Equal([2L, 1, 3], t.Unsqueeze(1).Shape);
        Assert.Equal([3L], t.Select(0, 0).Shape);
        Assert.Equal([0.0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5], Values(Tensor.Cat([t, t], 0)));
        Assert.Equal([2L, 2, 3], Tensor.Stack([t, t], 0).Shape);
        Assert.Equal([0.0, 1, 2, 0, 1, 2], Values(t.Select(0, 0).Expand(2, 3)));
        var parts = t.Split(2, 1);
        Assert.Equal(2, parts.Length);
        Assert.Equal([2.0, 5], Values(parts[1]));
        var chunks = Tensor.Arange(5).Chunk(2);
        Assert.Equal([0L, 1, 2], chunks[0].ToArray<long>());
        Assert.Equal([3L, 4], chunks[1].ToArray<long>());
        Assert.Equal([0.0, 3, 1, 4, 2, 5], Values(t.Permute(1, 0).Reshape(-1)));
        Assert.Equal([6L], t.Flatten().Shape);
        Assert.Equal([2L, 6], t.Repeat(1, 2).Shape);
        Assert.Equal(6, t.Contiguous().NumElements);
    }

    [Fact]
    public void Dropout_zeroes_about_p_and_scales_the_rest()
    {
        using var scope = DisposeScope.Begin();
        var x = Tensor.Full([10_000], 2.0, DType.Float64);
        var y = F.Dropout(x, 0.25, training: true).ToArray<double>();
        Assert.All(y, v => Assert.True(v == 0 || Math.Abs(v - 2 / 0.75) < 1e-12, $"{v} is neither 0 nor x/(1−p)"));
        var zeros = y.Count(v => v == 0) / 10_000.0;
        Assert.InRange(zeros, 0.22, 0.28); // binomial: p = 0.25, σ ≈ 0.0043
        Assert.True(F.Dropout(x, 0.25, training: false).ValueEquals(x));
    }

    [Fact]
    public void Losses_and_norms_equal_loops()
    {
        using var scope = DisposeScope.Begin();
        const int n = 3, c = 4;
        const double eps = 0.1;
        var logits = Seq(n * c);
        long[] target = [1, 3, 0];
        double smoothed = 0; // C# reference: (1−ε)·(−log p[t]) + ε·mean_j(−log p[j]), averaged over rows
        for (var r = 0; r < n; r++)
        {
            var lse = Math.Log(Enumerable.Range(0, c).Sum(j => Math.Exp(logits[r * c + j])));
            var nll = lse - logits[r * c + target[r]];
            var uniform = Enumerable.Range(0, c).Average(j => lse - logits[r * c + j]);
            smoothed += ((1 - eps) * nll + eps * uniform) / n;
        }
        var ce = F.CrossEntropy(Tensor.From<double>(logits, n, c), Tensor.From<long>(target), labelSmoothing: eps);
        Near([smoothed], [ce.ToDouble()]);
        var a = Seq(6);
        var b = Seq(6).Select(v => v * v).ToArray();
        Near([a.Zip(b, (u, v) => (u - v) * (u - v)).Average()], [F.MseLoss(Tensor.From<double>(a), Tensor.From<double>(b)).ToDouble()]);
        Near([Math.Sqrt(a.Sum(v => v * v))], [Tensor.From<double>(a).Norm().ToDouble()]);
        // scatter: row r gets src[r] written at column index[r]
        var scattered = Tensor.Zeros([2, 3], DType.Float64).Scatter(1, Tensor.From<long>([2, 0], 2, 1), Tensor.From<double>([7, 8], 2, 1));
        Assert.Equal([0.0, 0, 7, 8, 0, 0], Values(scattered));
    }
}
