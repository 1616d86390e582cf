using System.Diagnostics;
using AlignCluster.Torch;

namespace AlignCluster.Torch.Bench;

/// <summary>The benchmarked operations in C#; python_ops.py does the same ones in PyTorch.</summary>
internal static class CSharpOps
{
    /// <summary>Batches per op; python_ops.py uses the same number.</summary>
    public const int Batches = 50;

    /// <summary>
    /// Nanoseconds per call of each small op (8-element float32 tensors: the time is call overhead), the best
    /// batch of <see cref="Batches"/> (a shared machine preempts some batches; the fastest is the op's own cost).
    /// </summary>
    public static Dictionary<string, double> PerOpNanoseconds(int iterations)
    {
        using var a = Tensor.Randn([8]);
        using var b = Tensor.Randn([8]);
        using var m = Tensor.Randn([4, 4]);
        using var s = Tensor.FromScalar(1.5);
        var ops = new (string Name, Action Op)[]
        {
            ("add", () => { using var r = a + b; }),
            ("mul_scalar", () => { using var r = a * 2.0; }),
            ("matmul_4x4", () => { using var r = m.MatMul(m); }),
            ("sum", () => { using var r = a.Sum(); }),
            ("softmax", () => { using var r = a.Softmax(-1); }),
            ("relu", () => { using var r = a.Relu(); }),
            ("view", () => { using var r = a.View(2, 4); }),
            ("zeros", () => { using var r = Tensor.Zeros([8]); }),
            ("item", () => s.ToDouble()),
        };
        var result = new Dictionary<string, double>();
        foreach (var (name, op) in ops)
        {
            for (var i = 0; i < iterations / 10; i++) op(); // warm-up (JIT tiering)
            var perBatch = Math.Max(1, iterations / Batches);
            var best = double.MaxValue;
            for (var batch = 0; batch < Batches; batch++)
            {
                var clock = Stopwatch.StartNew();
                for (var i = 0; i < perBatch; i++) op();
                best = Math.Min(best, clock.Elapsed.TotalNanoseconds / perBatch);
            }
            result[name] = best;
        }
        return result;
    }

    /// <summary>Seconds per float32 n×n×n matmul (best of <paramref name="repeats"/>).</summary>
    public static double MatmulSeconds(int n, int repeats)
    {
        using var g = new Generator(0);
        using var a = Tensor.Randn([n, n], generator: g);
        using var b = Tensor.Randn([n, n], generator: g);
        using (a.MatMul(b)) { } // warm-up
        var best = double.MaxValue;
        for (var i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            using (a.MatMul(b)) { }
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return best;
    }
}
