using System.Runtime.InteropServices;
using AlignCluster.Torch.Distributed;

namespace AlignCluster.Torch.Native;

/// <summary>P/Invoke declarations of the c10d exports (native/distributed.cpp). Collectives block until every rank
/// took part (or the group's timeout), so none of them skips the GC transition.</summary>
internal static unsafe partial class NativeMethods
{
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int act_dist_backend_available(string backend);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint act_dist_tcp_store(string host, int port, int worldSize, int isMaster, long timeoutMs);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint act_dist_file_store(string path, int worldSize, long timeoutMs);
    [LibraryImport(Library)] internal static partial int act_dist_store_port(Store store);
    [LibraryImport(Library)] internal static partial void act_dist_store_free(nint store);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint act_dist_group_new(string backend, Store store, string prefix, int rank, int worldSize,
        long timeoutMs, string hostname, int deviceIndex);
    [LibraryImport(Library)] internal static partial void act_dist_group_free(nint group);
    [LibraryImport(Library)] internal static partial int act_dist_allreduce(ProcessGroup group, nint* tensors, int n, int op, int grads);
    [LibraryImport(Library)] internal static partial int act_dist_broadcast(ProcessGroup group, nint* tensors, int n, int root);
    [LibraryImport(Library)] internal static partial nint* act_dist_allgather(ProcessGroup group, Tensor tensor, int* count);
    [LibraryImport(Library)] internal static partial int act_dist_barrier(ProcessGroup group);
}
