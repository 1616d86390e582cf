using System.Diagnostics;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Models;

/// <summary>What <see cref="TorchRuntime.Initialize"/> found: which libtorch runs, its CUDA devices and
/// threads.</summary>
public sealed record TorchRuntimeInfo(
    string LibTorchDirectory,
    string Source,
    string Version,
    bool CudaAvailable,
    int CudaDevices,
    int Threads
);

/// <summary>
/// Chooses and loads libtorch once per process. By default TorchSharp's packaged CPU libtorch (libtorch-cpu-linux-x64)
/// runs. On a GPU node with PyTorch installed (and no TorchSharp-cuda package), the silo loads PyTorch's own CUDA
/// libtorch instead: NativeLibrary.Load of libc10, libtorch_cpu, libc10_cuda, libtorch_cuda and libtorch from
/// <c>&lt;site-packages&gt;/torch/lib</c>, then our LibTorchSharp (which binds to the already loaded libraries by
/// soname), then CUDA is initialized. The directory comes from ALIGNCLUSTER_TORCH_LIB, else from
/// python3 (the torch package's directory) when that install has libtorch_cuda.so (a CPU-only PyTorch, e.g. Debian's
/// 1.13,
/// is never picked: our LibTorchSharp is built for libtorch 2.10). ALIGNCLUSTER_TORCH_LIB=packaged skips the probe.
/// ALIGNCLUSTER_THREADS pins the intra-op threads.
/// </summary>
public static class TorchRuntime
{
    public const string LibraryVariable = "ALIGNCLUSTER_TORCH_LIB";
    public const string ThreadsVariable = "ALIGNCLUSTER_THREADS";
    private static readonly Lock Gate = new();
    private static TorchRuntimeInfo? _info;

    /// <summary>Loads libtorch (once) and returns what runs.</summary>
    public static TorchRuntimeInfo Initialize(bool probePyTorch = true)
    {
        lock (Gate)
        {
            if (_info is not null)
                return _info;
            string? pytorch = PyTorchLibDirectory(probePyTorch);
            string source = "TorchSharp package libtorch-cpu-linux-x64";
            string directory = AppContext.BaseDirectory;
            if (pytorch is not null)
            {
                foreach (
                    var lib in new[]
                    {
                        "libc10.so",
                        "libtorch_cpu.so",
                        "libc10_cuda.so",
                        "libtorch_cuda.so",
                        "libtorch.so",
                    }
                )
                {
                    string path = Path.Combine(pytorch, lib);
                    if (File.Exists(path))
                        NativeLibrary.Load(path);
                    else if (lib.Contains("cuda"))
                        throw new InvalidOperationException(
                            $"{LibraryVariable}: {path} not found (not a CUDA PyTorch)"
                        );
                }
                string bridge = Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so");
                if (File.Exists(bridge))
                    NativeLibrary.Load(bridge);
                (source, directory) = ("PyTorch install", pytorch);
                torch.InitializeDeviceType(DeviceType.CUDA);
            }
            if (Environment.GetEnvironmentVariable(ThreadsVariable) is { Length: > 0 } text)
            {
                if (!int.TryParse(text, out int threads) || threads < 1)
                    throw new ArgumentException($"{ThreadsVariable}='{text}' is not a positive integer thread count");
                torch.set_num_threads(threads);
            }
            bool cuda = torch.cuda.is_available();
            return _info = new TorchRuntimeInfo(
                directory,
                source,
                torch.__version__,
                cuda,
                cuda ? torch.cuda.device_count() : 0,
                torch.get_num_threads()
            );
        }
    }

    private static string? PyTorchLibDirectory(bool probe)
    {
        var configured = Environment.GetEnvironmentVariable(LibraryVariable);
        if (configured == "packaged")
            return null;
        if (!string.IsNullOrEmpty(configured))
            return Directory.Exists(configured)
                ? configured
                : throw new ArgumentException($"{LibraryVariable}='{configured}' is not a directory");
        if (!probe)
            return null;
        try
        {
            // find_spec locates the torch package without importing it (an import takes seconds, at every silo start).
            var start = new ProcessStartInfo(
                "python3",
                [
                    "-c",
                    "import importlib.util as u,os;s=u.find_spec('torch');print(os.path.dirname(s.origin) if s "
                        + "else '')",
                ]
            )
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var python = Process.Start(start);
            if (python is null)
                return null;
            string output = python.StandardOutput.ReadToEnd().Trim();
            if (!python.WaitForExit(60_000) || python.ExitCode != 0 || output.Length == 0)
                return null;
            string lib = Path.Combine(output, "lib");
            return File.Exists(Path.Combine(lib, "libtorch_cuda.so")) ? lib : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        } // no python3 on PATH
    }
}
