using AlignCluster.Torch.NN;

namespace AlignCluster.Torch.Distributed;

/// <summary>
/// Data-parallel training over a <see cref="ProcessGroup"/>: each rank holds a full replica of the model and trains
/// on its share of the batch. Start from identical weights (<see cref="BroadcastParameters"/>), and after each
/// backward pass call <see cref="AverageGradients"/> before the optimizer step; every replica then takes the same
/// step, the one a single process would take on the whole batch with a mean loss (given equal shares).
/// </summary>
/// <example>
/// <code>
/// var dp = new DataParallel(group);
/// dp.BroadcastParameters(model.Parameters());        // same start everywhere
/// loss.Backward();                                     // on this rank's share of the batch
/// dp.AverageGradients(model.Parameters());             // grad = mean over ranks
/// optimizer.Step();
/// </code>
/// </example>
public sealed class DataParallel(ProcessGroup group)
{
    /// <summary>The group the replicas belong to.</summary>
    public ProcessGroup Group { get; } = group ?? throw new ArgumentNullException(nameof(group));

    /// <summary>
    /// Replaces each parameter's gradient by its mean over ranks: one coalesced allreduce (sum) over all gradients,
    /// then a division by the world size. A parameter that requires grad but has none counts as zero on this rank.
    /// </summary>
    public void AverageGradients(IEnumerable<Parameter> parameters) =>
        Group.AllReduceGradients(parameters, ReduceOp.Average);

    /// <summary>Copies rank <paramref name="root"/>'s parameter values to every rank (one coalesced broadcast).</summary>
    public void BroadcastParameters(IEnumerable<Parameter> parameters, int root = 0) => Group.Broadcast(parameters, root);
}
