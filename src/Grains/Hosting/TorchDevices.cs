using AlignCluster.Torch;

namespace AlignCluster.Grains.Hosting;

/// <summary>The silo's device detector: the GPUs libtorch sees, declared for device-pinned trainer grains.</summary>
public static class TorchDevices
{
    /// <summary>
    /// "cuda:0" … "cuda:N−1" when this libtorch build sees GPUs; none otherwise (a CPU-only build, or no GPU), in which
    /// case the silo declares its configured CPU devices. Devices listed in the silo's configuration always win.
    /// </summary>
    public static IReadOnlyList<string> Detect() => [.. Enumerable.Range(0, LibTorch.CudaDeviceCount).Select(i => $"cuda:{i}")];
}
