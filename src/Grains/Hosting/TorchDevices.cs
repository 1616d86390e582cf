using AlignCluster.Models;

namespace AlignCluster.Grains.Hosting;

/// <summary>GPU detection for a silo's device declaration.</summary>
public static class TorchDevices
{
    /// <summary>
    /// "cuda:0" … "cuda:N−1" when the libtorch this process runs (<see cref="TorchRuntime"/>: PyTorch's CUDA libtorch
    /// on a
    /// GPU node) sees GPUs; none otherwise, in which case the silo declares its configured CPU devices. Devices listed
    /// in the silo's configuration always win.
    /// </summary>
    public static IReadOnlyList<string> Detect() =>
        [.. Enumerable.Range(0, TorchRuntime.Initialize().CudaDevices).Select(i => $"cuda:{i}")];
}
