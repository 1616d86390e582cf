using TorchSharp;

namespace AlignCluster.Grains.Hosting;

/// <summary>
/// libtorch's intra-op thread pool is per process, but a silo with several CPU "devices" runs one trainer per device
/// at once. Each trainer then gets its share of the cores: with more busy threads than cores, libtorch's workers wait
/// on descheduled peers and a small model's step gets ~10× slower (measured with two demo runs on 2 cores).
/// </summary>
public static class TorchThreads
{
    /// <summary>Sets intra-op threads to cores / <paramref name="cpuDevices"/> (at least 1), unless
    /// ALIGNCLUSTER_THREADS pins them.</summary>
    public static void ShareAmong(int cpuDevices)
    {
        if (
            Environment.GetEnvironmentVariable("ALIGNCLUSTER_THREADS") is { Length: > 0 } pinned
            && int.TryParse(pinned, out int n)
            && n > 0
        )
        {
            torch.set_num_threads(n);
            return;
        }
        torch.set_num_threads(Math.Max(1, Environment.ProcessorCount / Math.Max(1, cpuDevices)));
    }
}
