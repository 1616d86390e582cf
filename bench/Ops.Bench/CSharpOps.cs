using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Ops.Bench;

/// <summary>The benchmarked operations in C#; python_ops.py does the same ones in PyTorch.</summary>
internal static class CSharpOps
{
    /// <summary>Batches per op; python_ops.py uses the same number.</summary>
    public const int Batches = 50;

    /// <summary>
    /// Nanoseconds per call of each small op (8-element float32 tensors: the time is call overhead), the best batch of
    /// <see cref="Batches"/>. "mul_scalar" passes a double (TorchSharp allocates a native Scalar per call);
    /// "mul_cached" passes one Scalar made once, as hot loops should.
    /// </summary>
    public static Dictionary<string, double> PerOpNanoseconds(int iterations)
    {
        using var a = torch.randn(8);
        using var b = torch.randn(8);
        using var m = torch.randn(4, 4);
        using var s = torch.tensor(1.5);
        using Scalar two = 2.0;
        var ops = new (string Name, Action Op)[] { ("add", () =>
            {
                using var r = a + b;
            }), ("mul_scalar", () =>
            {
                using var r = a * 2.0;
            }), ("mul_cached", () =>
            {
                using var r = a.mul(two);
            }), ("matmul_4x4", () =>
            {
                using var r = m.matmul(m);
            }), ("sum", () =>
            {
                using var r = a.sum();
            }), ("softmax", () =>
            {
                using var r = a.softmax(-1);
            }), ("relu", () =>
            {
                using var r = a.relu();
            }), ("view", () =>
            {
                using var r = a.view(2, 4);
            }), ("zeros", () =>
            {
                using var r = torch.zeros(8);
            }), ("item", () => s.item<double>()) };
        var result = new Dictionary<string, double>();
        foreach (var (name, op) in ops)
        {
            for (var i = 0; i < iterations / 10; i++)
                op(); // warm-up (JIT tiering)
            var perBatch = Math.Max(1, iterations / Batches);
            var best = double.MaxValue;
            for (var batch = 0; batch < Batches; batch++)
            {
                var clock = Stopwatch.StartNew();
                for (var i = 0; i < perBatch; i++)
                    op();
                best = Math.Min(best, clock.Elapsed.TotalNanoseconds / perBatch);
            }
            result[name] = best;
        }
        return result;
    }

    /// <summary>Process CPU seconds per float32 n×n×n matmul (best of <paramref name="repeats"/>): CPU time, not wall
    /// time, so other processes on a shared machine do not count; python_ops.py uses time.process_time().</summary>
    public static double MatmulSeconds(int n, int repeats)
    {
        using var g = new Generator(0);
        using var a = torch.randn(n, n, generator: g);
        using var b = torch.randn(n, n, generator: g);
        using (a.matmul(b)) { } // warm-up
        var best = double.MaxValue;
        var self = Process.GetCurrentProcess();
        for (var i = 0; i < repeats; i++)
        {
            self.Refresh();
            var before = self.TotalProcessorTime;
            using (a.matmul(b)) { }
            self.Refresh();
            best = Math.Min(best, (self.TotalProcessorTime - before).TotalSeconds);
        }
        return best;
    }
}
