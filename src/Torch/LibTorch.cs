using System.Runtime.InteropServices;
using AlignCluster.Torch.Native;

namespace AlignCluster.Torch;

/// <summary>Process-wide libtorch settings and facts: seeding, threads, CUDA devices, version.</summary>
public static class LibTorch
{
    /// <summary>The libtorch version the shim was built against, e.g. "1.13.0".</summary>
    public static string Version => Marshal.PtrToStringUTF8(NativeMethods.act_version()) ?? "unknown";

    /// <summary>
    /// True when the shim calls libtorch's fused at::scaled_dot_product_attention (PyTorch 2.0+);
    /// false when it composes attention from matmul/softmax (libtorch 1.13).
    /// </summary>
    public static bool HasFusedAttention => NativeMethods.act_has_fused_sdpa() != 0;

    /// <summary>Seeds the global generators (CPU and every CUDA device), like torch.manual_seed.</summary>
    public static void ManualSeed(ulong seed) => NativeMethods.Check(NativeMethods.act_manual_seed(seed));

    /// <summary>
    /// Intra-op threads libtorch uses. Set at start to ALIGNCLUSTER_THREADS or the number of cores;
    /// change it here at any time.
    /// </summary>
    public static int NumThreads
    {
        get => NativeMethods.act_get_num_threads();
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            NativeMethods.Check(NativeMethods.act_set_num_threads(value));
        }
    }

    /// <summary>Number of CUDA devices visible at run time (0 on a CPU-only libtorch or machine).</summary>
    public static int CudaDeviceCount => NativeMethods.act_cuda_device_count();

    /// <summary>True when at least one CUDA device can be used.</summary>
    public static bool CudaIsAvailable => CudaDeviceCount > 0;

    /// <summary>cuda:0 when a GPU is available, otherwise the CPU.</summary>
    public static Device DefaultDevice => CudaIsAvailable ? Device.Cuda(0) : Device.Cpu;
}
