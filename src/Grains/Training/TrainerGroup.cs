using AlignCluster.Torch;
using AlignCluster.Torch.Distributed;

namespace AlignCluster.Grains.Training;

/// <summary>
/// A trainer's place among the data-parallel replicas of one run (docs/cluster.md, "Data-parallel trainers"): every replica
/// holds the same weights, trains on its share of each batch, and the gradients are summed through c10d (Gloo on CPU,
/// NCCL on CUDA) before the optimizer step, so every replica takes the step one trainer would take on the whole batch.
/// <see cref="Solo"/> is the group of one: its sums are the identity and it owns no native resources.
/// </summary>
public sealed class TrainerGroup : IDisposable
{
    /// <summary>How long a rank waits for the others at the rendezvous and at each collective (a slow share of a step
    /// on a large model must not abort the group).</summary>
    public static TimeSpan CollectiveTimeout { get; set; } = TimeSpan.FromMinutes(30);

    private readonly ProcessGroup? _group;
    private readonly Device _buffers; // where plain values go for a collective: NCCL reduces GPU tensors only

    private TrainerGroup(string id, int rank, int worldSize, ProcessGroup? group, Device buffers)
    {
        (Id, Rank, WorldSize, _group, _buffers) = (id, rank, worldSize, group, buffers);
    }

    /// <summary>The group of one: no collectives.</summary>
    public static TrainerGroup Solo { get; } = new("", 0, 1, null, Device.Cpu);

    /// <summary>Names the group (the coordinator picks a fresh one each time it forms the group).</summary>
    public string Id { get; }

    /// <summary>This replica, 0..WorldSize−1; rank 0 writes checkpoints.</summary>
    public int Rank { get; }

    public int WorldSize { get; }

    /// <summary>
    /// Joins group <paramref name="id"/> through the TCP store at <paramref name="host"/>:<paramref name="port"/>; rank 0
    /// passes the store it serves (<see cref="ServeRendezvous"/>). Blocks until all ranks joined.
    /// </summary>
    /// <param name="device">Where this replica's weights live: a GPU's replicas use NCCL on that GPU (when the shim has
    /// NCCL), CPU replicas Gloo.</param>
    public static TrainerGroup Join(string id, int rank, int worldSize, string host, int port, Store? servedStore, Device device)
    {
        if (worldSize == 1) return new TrainerGroup(id, 0, 1, null, Device.Cpu);
        using var store = servedStore is null ? Store.Tcp(host, port, worldSize, isMaster: false, CollectiveTimeout) : null;
        var backend = !device.IsCpu && ProcessGroup.IsAvailable(Backend.Nccl) ? Backend.Nccl : Backend.Gloo;
        var group = ProcessGroup.Create(servedStore ?? store!, rank, worldSize, backend, CollectiveTimeout, host, name: id,
            cudaDevice: device.IsCpu ? null : Math.Max(device.Index, 0));
        return new TrainerGroup(id, rank, worldSize, group, backend == Backend.Nccl ? device : Device.Cpu);
    }

    /// <summary>Rank 0's side of the rendezvous: a TCP store on a free port of <paramref name="host"/>.</summary>
    public static Store ServeRendezvous(string host, int worldSize) => Store.Tcp(host, 0, worldSize, isMaster: true, CollectiveTimeout);

    /// <summary>This replica's rows of a batch: every WorldSize-th, starting at Rank (shares differ in size by at most one).</summary>
    public T[] Share<T>(T[] batch) => WorldSize == 1 ? batch : batch.Where((_, i) => i % WorldSize == Rank).ToArray();

    /// <summary>
    /// Sums <paramref name="values"/> over the replicas in place (one collective) and returns them: step counts and
    /// metrics, or a gradient kept outside libtorch. The group of one returns them as they are.
    /// </summary>
    public double[] Sum(params double[] values)
    {
        if (_group is null) return values;
        using var scope = DisposeScope.Begin();
        var t = Tensor.From<double>(values, values.Length).To(_buffers);
        _group.AllReduce(t, ReduceOp.Sum);
        t.CopyTo<double>(values);
        return values;
    }

    /// <summary>Sums the gradients of <paramref name="parameters"/> over the replicas (one coalesced collective).</summary>
    public void SumGradients(IEnumerable<Torch.NN.Parameter> parameters)
    {
        if (_group is not null) _group.AllReduceGradients(parameters, ReduceOp.Sum);
    }

    public void Dispose() => _group?.Dispose();

    public override string ToString() => _group is null ? "solo" : $"group {Id}: rank {Rank} of {WorldSize} ({_group.Backend})";
}
