using AlignCluster.Models;
using AlignCluster.Runtime.Messaging;

namespace AlignCluster.Grains.Hosting;

/// <summary>The silo's device detector: the GPUs libtorch sees, declared for device-pinned trainer grains.</summary>
public static class TorchDevices
{
    /// <summary>
    /// "cuda:0" … "cuda:N−1" when the libtorch this process runs (<see cref="TorchRuntime"/>: PyTorch's CUDA libtorch on a
    /// GPU node) sees GPUs; none otherwise, in which case the silo declares its configured CPU devices. Devices listed
    /// in the silo's configuration always win.
    /// </summary>
    public static IReadOnlyList<DeviceInfo> Detect() =>
        [.. Enumerable.Range(0, TorchRuntime.Initialize().CudaDevices).Select(i => new DeviceInfo($"cuda:{i}", "cuda"))];
}
