using System.Runtime.InteropServices;
using AlignCluster.Torch.NN;
using static AlignCluster.Torch.Native.NativeMethods;

namespace AlignCluster.Torch.Distributed;

/// <summary>The c10d backend that moves the data.</summary>
public enum Backend
{
    /// <summary>Gloo over TCP: CPU tensors; always built (Debian's libtorch and PyTorch wheels carry it).</summary>
    Gloo,

    /// <summary>NCCL: CUDA tensors; only when the shim was built against a CUDA libtorch (TORCH_ROOT).</summary>
    Nccl,
}

/// <summary>How <see cref="ProcessGroup.AllReduce(Tensor, ReduceOp)"/> combines the ranks' values.</summary>
public enum ReduceOp
{
    /// <summary>Elementwise sum over ranks.</summary>
    Sum = 0,

    /// <summary>Elementwise mean: the sum divided by the world size (floating-point tensors only).</summary>
    Average = 1,

    /// <summary>Elementwise maximum.</summary>
    Max = 2,

    /// <summary>Elementwise minimum.</summary>
    Min = 3,
}

/// <summary>
/// One rank's membership in a c10d process group (torch.distributed's ProcessGroup): the ranks 0..WorldSize−1,
/// each on its own thread or process, call the same collectives in the same order with tensors of the same shapes.
/// </summary>
/// <remarks>
/// Before moving data, every collective exchanges a small header (which collective, reduce op or root, dtypes,
/// shapes); when ranks disagree, all of them throw the same <see cref="TorchException"/> naming each rank's call,
/// and the group stays usable. When a rank does not reach a collective within <see cref="Timeout"/>, or a peer goes
/// away, the waiting ranks throw and the group is broken: later calls fail at once; dispose it and make a new one.
/// Calls on one group are serialised; do not call collectives from several threads expecting an order.
/// </remarks>
public sealed class ProcessGroup : SafeHandle
{
    private ProcessGroup(nint handle, Backend backend, int rank, int worldSize, TimeSpan timeout) : base(0, ownsHandle: true)
    {
        SetHandle(handle);
        Backend = backend;
        Rank = rank;
        WorldSize = worldSize;
        Timeout = timeout;
    }

    /// <summary>
    /// Joins a group: blocks until all <paramref name="worldSize"/> ranks joined through <paramref name="store"/>,
    /// or throws after <paramref name="timeout"/> (default 5 minutes; it also bounds every collective).
    /// </summary>
    /// <param name="store">This rank's store (every rank's store reaches the same keys).</param>
    /// <param name="rank">This rank, 0..worldSize−1.</param>
    /// <param name="worldSize">The number of ranks.</param>
    /// <param name="backend">Gloo (CPU tensors) or NCCL (CUDA tensors; see <see cref="IsAvailable"/>).</param>
    /// <param name="timeout">Limit for the rendezvous and for each collective.</param>
    /// <param name="hostname">The address Gloo listens on and tells its peers; loopback unless configured, so
    /// ranks on other machines need this machine's reachable address. Null: Gloo's default interface.</param>
    /// <param name="name">Namespaces the group's keys in the store, so several groups can share one store.</param>
    /// <param name="cudaDevice">NCCL: the CUDA device index of this rank (default: rank modulo device count).</param>
    public static ProcessGroup Create(Store store, int rank, int worldSize, Backend backend = Backend.Gloo,
        TimeSpan? timeout = null, string? hostname = "127.0.0.1", string name = "default", int? cudaDevice = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        var ms = Store.Milliseconds(timeout);
        var device = cudaDevice ?? (backend == Backend.Nccl && LibTorch.CudaDeviceCount > 0 ? rank % LibTorch.CudaDeviceCount : 0);
        var handle = act_dist_group_new(BackendName(backend), store, name, rank, worldSize, ms, hostname ?? "", device);
        if (handle == 0) TorchException.ThrowLast();
        return new ProcessGroup(handle, backend, rank, worldSize, TimeSpan.FromMilliseconds(ms));
    }

    /// <summary>Whether this build of the native shim has <paramref name="backend"/>.</summary>
    public static bool IsAvailable(Backend backend) => act_dist_backend_available(BackendName(backend)) == 1;

    /// <summary>The backend moving the data.</summary>
    public Backend Backend { get; }

    /// <summary>This rank, 0..WorldSize−1.</summary>
    public int Rank { get; }

    /// <summary>The number of ranks.</summary>
    public int WorldSize { get; }

    /// <summary>The limit for each collective (and for the rendezvous).</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Combines <paramref name="tensor"/> across ranks in place: afterwards every rank holds the result.</summary>
    public void AllReduce(Tensor tensor, ReduceOp op = ReduceOp.Sum) => AllReduce([tensor], op);

    /// <summary>
    /// Combines each tensor across ranks in place, as one collective over a flat buffer per dtype (many small
    /// gradients cost one round trip, not one each).
    /// </summary>
    public void AllReduce(IEnumerable<Tensor> tensors, ReduceOp op = ReduceOp.Sum) => Reduce(tensors, op, grads: false);

    /// <summary>
    /// All-reduces the gradients of <paramref name="parameters"/> in place (one coalesced collective). A parameter
    /// that requires grad but has none gets a zero gradient first, so every rank reduces the same layout.
    /// </summary>
    public void AllReduceGradients(IEnumerable<Parameter> parameters, ReduceOp op = ReduceOp.Average) =>
        Reduce(parameters, op, grads: true);

    /// <summary>Copies rank <paramref name="root"/>'s values into <paramref name="tensor"/> on every rank.</summary>
    public void Broadcast(Tensor tensor, int root) => Broadcast([tensor], root);

    /// <summary>Copies rank <paramref name="root"/>'s values into each tensor on every rank (one coalesced collective).</summary>
    public unsafe void Broadcast(IEnumerable<Tensor> tensors, int root)
    {
        var list = tensors as IReadOnlyList<Tensor> ?? tensors.ToArray();
        var handles = Tensor.Handles(list);
        fixed (nint* h = handles) Check(act_dist_broadcast(this, h, handles.Length, root));
        GC.KeepAlive(list);
    }

    /// <summary>Every rank's <paramref name="tensor"/>, indexed by rank (new tensors; same shape on every rank).</summary>
    public unsafe Tensor[] AllGather(Tensor tensor)
    {
        int count;
        return Tensor.TakeArray(act_dist_allgather(this, tensor, &count), count);
    }

    /// <summary>Returns once every rank has called it.</summary>
    public void Barrier() => Check(act_dist_barrier(this));

    /// <inheritdoc />
    public override bool IsInvalid => handle == 0;

    /// <inheritdoc />
    protected override bool ReleaseHandle()
    {
        act_dist_group_free(handle);
        return true;
    }

    /// <inheritdoc />
    public override string ToString() => $"ProcessGroup({Backend}, rank {Rank} of {WorldSize})";

    private unsafe void Reduce(IEnumerable<Tensor> tensors, ReduceOp op, bool grads)
    {
        var list = tensors as IReadOnlyList<Tensor> ?? tensors.ToArray();
        var handles = Tensor.Handles(list);
        fixed (nint* h = handles) Check(act_dist_allreduce(this, h, handles.Length, (int)op, grads ? 1 : 0));
        GC.KeepAlive(list);
    }

    private static string BackendName(Backend backend) => backend switch
    {
        Backend.Gloo => "gloo",
        Backend.Nccl => "nccl",
        _ => throw new ArgumentOutOfRangeException(nameof(backend), backend, "unknown backend"),
    };
}
