using System.CommandLine;
using AlignCluster.Models;

namespace AlignCluster.Client.Commands;

/// <summary>
/// <c>aligncluster devices</c>: which libtorch this machine runs (TorchSharp's packaged CPU build, or a PyTorch
/// install's CUDA build: see docs/models.md, "Devices"), its version, whether CUDA is available, the GPUs a silo here
/// would declare, and libtorch's intra-op threads.
/// </summary>
internal static class DevicesCommand
{
    public static Command Create()
    {
        var command = new Command(
            "devices",
            "Print the libtorch in use (path, version), CUDA availability, GPUs and threads."
        );
        command.SetAction(_ =>
        {
            try
            {
                var info = TorchRuntime.Initialize();
                Console.WriteLine($"libtorch: {info.LibTorchDirectory} ({info.Source})");
                Console.WriteLine($"version: {info.Version}");
                Console.WriteLine($"cuda: {(info.CudaAvailable ? "available" : "not available")}");
                Console.WriteLine(
                    $"gpus: {(info.CudaDevices == 0 ? "none" : string.Join(", ", Enumerable.Range(0, info.CudaDevices).Select(i => $"cuda:{i}")))}"
                );
                Console.WriteLine($"threads: {info.Threads}");
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or DllNotFoundException)
            {
                Console.Error.WriteLine($"devices: {e.Message}");
                return 3; // unusable state: the configured libtorch does not load
            }
        });
        return command;
    }
}
