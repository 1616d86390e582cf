using AlignCluster.Models.Nn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AlignCluster.Grains.Training;

/// <summary>
/// A trainer's place among the data-parallel replicas of one run (docs/cluster.md, "Data-parallel trainers"): every
/// replica holds the same weights, trains on its share of each batch, and the gradients are summed (Gloo on CPU, NCCL
/// on CUDA; TorchSharp has no torch.distributed) before the optimizer step, so every replica takes the step one trainer
/// would take on the whole batch. <see cref="Solo"/> is the group of one: its sums are the identity and it owns no
/// native resources.
/// </summary>
public sealed class TrainerGroup : IDisposable
{
    /// <summary>How long a rank waits for the others at the rendezvous and at each collective (a slow share of a step
    /// on a large model must not abort the group).</summary>
    public static TimeSpan CollectiveTimeout { get; set; } = TimeSpan.FromMinutes(30);

    private readonly GlooGroup? _gloo;
    private readonly NcclGroup? _nccl;
    private readonly Device _device; // NCCL reduces GPU memory: plain values go through a tensor there

    private TrainerGroup(string id, int rank, int worldSize, GlooGroup? gloo, NcclGroup? nccl, Device device)
    {
        (Id, Rank, WorldSize, _gloo, _nccl, _device) = (id, rank, worldSize, gloo, nccl, device);
    }

    /// <summary>The group of one: no collectives.</summary>
    public static TrainerGroup Solo { get; } = new("", 0, 1, null, null, torch.CPU);

    /// <summary>Names the group (the coordinator picks a fresh one each time it forms the group).</summary>
    public string Id { get; }

    /// <summary>This replica, 0..WorldSize−1; rank 0 writes checkpoints.</summary>
    public int Rank { get; }

    public int WorldSize { get; }

    /// <summary>
    /// Joins group <paramref name="id"/> through the rendezvous store at <paramref name="host"/>:<paramref
    /// name="port"/>;
    /// rank 0 passes the store it serves (<see cref="ServeRendezvous"/>). Blocks until all ranks joined; a first sum
    /// over the group makes sure every rank finished connecting before rank 0 may close the store.
    /// </summary>
    /// <param name="device">Where this replica's weights live: a GPU's replicas use NCCL on that GPU (when libnccl
    /// loads), CPU replicas Gloo.</param>
    public static TrainerGroup Join(
        string id,
        int rank,
        int worldSize,
        string host,
        int port,
        RendezvousStore? servedStore,
        Device device
    )
    {
        if (worldSize == 1)
            return new TrainerGroup(id, 0, 1, null, null, torch.CPU);
        using var connected = servedStore is null ? RendezvousStore.Connect(host, port, CollectiveTimeout) : null;
        var store = servedStore ?? connected!;
        string prefix = id + "/";
        TrainerGroup group;
        if (device.type == DeviceType.CUDA && NcclGroup.IsAvailable)
            group = new TrainerGroup(
                id,
                rank,
                worldSize,
                null,
                NcclGroup.Connect(store, prefix, rank, worldSize, Math.Max(device.index, 0)),
                device
            );
        else
            group = new TrainerGroup(
                id,
                rank,
                worldSize,
                GlooGroup.Connect(store, prefix, rank, worldSize, host, CollectiveTimeout),
                null,
                torch.CPU
            );
        var joined = group.Sum(1.0)[0];
        if ((int)joined != worldSize)
            throw new CollectiveException($"group {id}: {joined} of {worldSize} ranks joined");
        return group;
    }

    /// <summary>Rank 0's side of the rendezvous: a store on a free port of <paramref name="host"/>.</summary>
    public static RendezvousStore ServeRendezvous(string host, int worldSize) =>
        RendezvousStore.Serve(host, CollectiveTimeout);

    /// <summary>This replica's rows of a batch: every WorldSize-th, starting at Rank (shares differ in size by at most
    /// one).</summary>
    public T[] Share<T>(T[] batch) => WorldSize == 1 ? batch : batch.Where((_, i) => i % WorldSize == Rank).ToArray();

    /// <summary>
    /// Sums <paramref name="values"/> over the replicas in place (one collective) and returns them: step counts and
    /// metrics, or a gradient kept outside libtorch. The group of one returns them as they are.
    /// </summary>
    public double[] Sum(params double[] values)
    {
        if (_gloo is not null)
            _gloo.SumFloat64(values);
        else if (_nccl is not null)
        {
            using var scope = torch.NewDisposeScope();
            var t = torch.tensor(values, device: _device);
            _nccl.Sum(TorchGaps.DataPointer(t), values.Length, float64: true);
            t.cpu().data<double>().CopyTo(values, 0);
        }
        return values;
    }

    /// <summary>
    /// Sums the gradients of <paramref name="parameters"/> over the replicas in one coalesced collective: every
    /// gradient (zeros where a replica has none) is packed into one float32 buffer, summed, and copied back.
    /// </summary>
    public void SumGradients(IEnumerable<Parameter> parameters)
    {
        if (_gloo is null && _nccl is null)
            return;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var list = parameters.ToList();
        foreach (var p in list)
            if (p.grad is null)
                p.grad = torch.zeros_like(p).DetachFromDisposeScope();
        var flat = torch
            .cat(list.Select(p => p.grad!.reshape(-1).to_type(ScalarType.Float32)).ToList(), 0)
            .contiguous(); // (N)
        if (_gloo is not null)
            _gloo.SumFloat32(TorchGaps.DataPointer(flat), flat.numel());
        else
            _nccl!.Sum(TorchGaps.DataPointer(flat), flat.numel(), float64: false);
        long offset = 0;
        foreach (var p in list)
        {
            var grad = p.grad!;
            grad.copy_(flat.narrow(0, offset, grad.numel()).view(grad.shape));
            offset += grad.numel();
        }
    }

    public void Dispose()
    {
        _gloo?.Dispose();
        _nccl?.Dispose();
    }

    public override string ToString() =>
        _gloo is null && _nccl is null
            ? "solo"
            : $"group {Id}: rank {Rank} of {WorldSize} ({(_nccl is null ? "gloo" : "nccl")})";
}
