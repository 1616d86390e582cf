using System.Runtime.InteropServices;

namespace AlignCluster.Grains.Training;

/// <summary>
/// GPU all-reduce through NCCL's C API (libnccl.so.2, which PyTorch installs ship): rank 0 makes the unique id and
/// publishes it in the group's <see cref="RendezvousStore"/> (which the coordinator had rank 0 open), every rank
/// joins with ncclCommInitRank on its GPU, and sums run on the tensors' device pointers on the default CUDA stream
/// (the one TorchSharp computes on), so they are ordered with the step's kernels. Compiled here; never run on a GPU
/// in our CI (no GPU there).
/// </summary>
internal sealed class NcclGroup : IDisposable
{
    private const string Library = "libnccl.so.2";
    private const int NcclFloat32 = 7,
        NcclFloat64 = 8,
        NcclSum = 0;
    private IntPtr _comm;

    private NcclGroup(IntPtr comm) => _comm = comm;

    /// <summary>True when libnccl.so.2 loads (a CUDA node); CPU nodes use Gloo.</summary>
    public static bool IsAvailable => NativeLibrary.TryLoad(Library, out _);

    /// <summary>Joins the NCCL communicator of the group on GPU <paramref name="cudaDevice"/>; blocks until all ranks
    /// joined.</summary>
    public static NcclGroup Connect(RendezvousStore store, string prefix, int rank, int size, int cudaDevice)
    {
        var id = new byte[128]; // ncclUniqueId: NCCL_UNIQUE_ID_BYTES
        if (rank == 0)
        {
            Check(ncclGetUniqueId(id), "ncclGetUniqueId");
            store.Set(prefix + "nccl_unique_id", id);
        }
        else
        {
            id = store.Get(prefix + "nccl_unique_id");
        }
        CudaRuntime.SetDevice(cudaDevice);
        Check(
            ncclCommInitRank(out var comm, size, id, rank),
            $"ncclCommInitRank (rank {rank} of {size}, cuda:{cudaDevice})"
        );
        return new NcclGroup(comm);
    }

    /// <summary>Sums float32 (or float64) values at device pointer <paramref name="data"/> over the ranks, in
    /// place.</summary>
    public void Sum(IntPtr data, long count, bool float64) =>
        Check(
            ncclAllReduce(data, data, (UIntPtr)count, float64 ? NcclFloat64 : NcclFloat32, NcclSum, _comm, IntPtr.Zero),
            "ncclAllReduce"
        );

    private static void Check(int result, string what)
    {
        if (result != 0)
            throw new CollectiveException($"{what} failed: {Marshal.PtrToStringUTF8(ncclGetErrorString(result))}");
    }

    public void Dispose()
    {
        if (_comm != IntPtr.Zero)
            ncclCommDestroy(_comm);
        _comm = IntPtr.Zero;
    }

    [DllImport(Library)]
    private static extern int ncclGetUniqueId(byte[] uniqueId);

    // ncclUniqueId is a 128-byte struct passed by value: marshal it as a fixed-size struct.
    [DllImport(Library)]
    private static extern int ncclCommInitRank(out IntPtr comm, int nranks, UniqueId commId, int rank);

    [DllImport(Library)]
    private static extern int ncclAllReduce(
        IntPtr sendbuff,
        IntPtr recvbuff,
        UIntPtr count,
        int datatype,
        int op,
        IntPtr comm,
        IntPtr stream
    );

    [DllImport(Library)]
    private static extern int ncclCommDestroy(IntPtr comm);

    [DllImport(Library)]
    private static extern IntPtr ncclGetErrorString(int result);

    private static int ncclCommInitRank(out IntPtr comm, int nranks, byte[] id, int rank)
    {
        var unique = new UniqueId();
        unsafe
        {
            id.AsSpan().CopyTo(new Span<byte>(unique.Bytes, 128));
        }
        return ncclCommInitRank(out comm, nranks, unique, rank);
    }

    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct UniqueId
    {
        public fixed byte Bytes[128];
    }
}

/// <summary>cudaSetDevice from the CUDA runtime libtorch_cuda already loaded (its soname differs by CUDA
/// version).</summary>
internal static class CudaRuntime
{
    private static readonly string[] Names =
    [
        "libcudart.so",
        "libcudart.so.13",
        "libcudart.so.12",
        "libcudart.so.11.0",
    ];

    public static unsafe void SetDevice(int device)
    {
        foreach (var name in Names)
        {
            if (!NativeLibrary.TryLoad(name, out var library))
                continue;
            var setDevice = (delegate* unmanaged<int, int>)NativeLibrary.GetExport(library, "cudaSetDevice");
            int rc = setDevice(device);
            if (rc != 0)
                throw new CollectiveException($"cudaSetDevice({device}) failed with CUDA error {rc}");
            return;
        }
        throw new CollectiveException(
            $"no CUDA runtime library ({string.Join(", ", Names)}) loads: NCCL needs one to pick the GPU"
        );
    }
}
