using System.Diagnostics;

namespace AlignCluster.Torch.Tests;

/// <summary>Native memory is released: many create/compute/backward/dispose cycles do not grow the process.</summary>
public class MemoryTests
{
    private const int Cycles = 10_000;
    // Each cycle allocates ~10 tensors of 32×32 floats (4 KiB each) plus autograd nodes, about 60 KiB in all, so a
    // leak of any one of them over 10,000 cycles would add ≥ 40 MiB. Allocator caches and JIT stay well below this.
    private const long BoundBytes = 32L << 20;

    private static long Rss()
    {
        using var p = Process.GetCurrentProcess();
        p.Refresh();
        return p.WorkingSet64; // Linux: VmRSS of /proc/self/status
    }

    private static void Cycle(Tensor weight)
    {
        using var scope = DisposeScope.Begin();
        var x = Tensor.Randn([32, 32]).RequiresGrad_();
        var loss = (x.MatMul(weight).Tanh() * 2.0 + 1.0).LogSoftmax(-1).Mean();
        loss.Backward();
        _ = x.Grad!.Sum().ToDouble();
        weight.Grad = null;
    }

    [Fact]
    public void Ten_thousand_cycles_stay_within_the_RSS_bound()
    {
        using var weight = Tensor.Randn([32, 32]).RequiresGrad_().DetachFromScope();
        for (var i = 0; i < 500; i++) Cycle(weight); // warm-up: JIT, allocator caches, thread pools
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var before = Rss();
        for (var i = 0; i < Cycles; i++) Cycle(weight);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var growth = Rss() - before;
        Assert.True(growth < BoundBytes, $"RSS grew {growth >> 20} MiB over {Cycles} cycles (bound {BoundBytes >> 20} MiB)");
    }

    [Fact]
    public void Explicit_dispose_without_scopes_also_releases()
    {
        var before = 0L;
        for (var round = 0; round < 2; round++)
        {
            if (round == 1) { GC.Collect(); GC.WaitForPendingFinalizers(); before = Rss(); }
            for (var i = 0; i < 2_000; i++)
            {
                using var a = Tensor.Ones([64, 64]);
                using var b = a * 3.0;
                using var c = b.Sum();
                Assert.Equal(3.0 * 64 * 64, c.ToDouble());
            }
        }
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.True(Rss() - before < BoundBytes, "explicitly disposed tensors were not released");
    }
}
