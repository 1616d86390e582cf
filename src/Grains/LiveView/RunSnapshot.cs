using AlignCluster.Contracts;
using AlignCluster.Hosting.Placement;

namespace AlignCluster.Grains.LiveView;

/// <summary>What the run page shows, as its JSON endpoint serves it: the silos, where the run grains live, every
/// silo's devices, and each run's rounds.</summary>
public sealed record LiveSnapshot(
    DateTimeOffset Time,
    SiloRow[] Silos,
    GrainRow[] Grains,
    DeviceRow[] Devices,
    RunView[] Runs
);

/// <param name="Address">The silo's address (host:port@generation).</param>
/// <param name="Name">The silo's name.</param>
public sealed record SiloRow(string Address, string Name, string Status);

public enum GrainKind
{
    Coordinator,
    Shard,
    Trainer,
}

/// <summary>A run grain's activation: which kind, its key ("run", "run/shard-0", "run/trainer-0") and its silo's
/// name.</summary>
public sealed record GrainRow(GrainKind Kind, string Key, string Silo);

/// <summary>A device of a silo and the trainer holding it (null: free).</summary>
public sealed record DeviceRow(string Silo, string Device, string? Holder);

/// <param name="BaselineOracleReward">Held-out oracle reward of the SFT policy before round 1 (null: not
/// evaluated).</param>
public sealed record RunView(
    string RunId,
    RunState State,
    string Phase,
    int Round,
    int TotalRounds,
    int Restarts,
    string? Error,
    double? BaselineOracleReward,
    RoundPoint[] Rounds
)
{
    public static RunView Of(RunStatus s) =>
        new(
            s.RunId,
            s.State,
            s.Phase,
            s.Round,
            s.TotalRounds,
            s.Restarts,
            s.Error,
            s.Baseline is { Samples: > 0 } b ? b.OracleReward : null,
            [.. s.History.Select(RoundPoint.Of)]
        );
}

/// <summary>One round's means over its steps (TRL's metrics), its selection change rate and, when it was
/// evaluated, the held-out oracle reward and KL to the reference.</summary>
public sealed record RoundPoint(
    int Round,
    double Loss,
    double RewardsChosen,
    double RewardsRejected,
    double RewardsMargins,
    double RewardsAccuracies,
    double KernelEntropy,
    double SelectionChangeRate,
    double? OracleReward,
    double? KlToReference,
    double Seconds
)
{
    public static RoundPoint Of(RoundReport r) =>
        new(
            r.Round,
            r.Mean.Loss,
            r.Mean.RewardsChosen,
            r.Mean.RewardsRejected,
            r.Mean.RewardsMargins,
            r.Mean.RewardsAccuracies,
            r.Mean.KernelEntropy,
            r.SelectionChangeRate,
            r.Eval is { Samples: > 0 } e ? e.OracleReward : null,
            r.Eval is { Samples: > 0 } k ? k.KlToReference : null,
            r.Seconds
        );
}

/// <summary>
/// Reads a <see cref="LiveSnapshot"/> from inside a silo: membership and activations from Orleans' management grain,
/// runs from their coordinators' status (read-only: a status call starts nothing), devices from each silo's
/// <see cref="IDeviceLeaseGrain"/> (the leases live in that silo's memory only).
/// </summary>
public sealed class LiveSnapshotReader(IGrainFactory grains)
{
    /// <summary>The run grains' types, from the interfaces (no string compares on type names).</summary>
    private readonly Dictionary<GrainType, GrainKind> _kinds = new()
    {
        [grains.GetGrain<ICoordinatorGrain>("x").GetGrainId().Type] = GrainKind.Coordinator,
        [grains.GetGrain<IPromptShardGrain>("x").GetGrainId().Type] = GrainKind.Shard,
        [grains.GetGrain<ITrainerGrain>("x").GetGrainId().Type] = GrainKind.Trainer,
    };

    /// <param name="runIds">Runs to show besides those whose coordinator is active now.</param>
    public async Task<LiveSnapshot> ReadAsync(IEnumerable<string> runIds)
    {
        var management = grains.GetGrain<IManagementGrain>(0);
        var hosts = await management.GetDetailedHosts(onlyActive: true);
        var names = hosts.ToDictionary(h => h.SiloAddress, h => h.SiloName);
        string NameOf(SiloAddress a) => names.TryGetValue(a, out var n) ? n : a.ToString();

        var activations = await management.GetDetailedGrainStatistics(hostsIds: [.. names.Keys]);
        var rows = activations
            .Where(a => _kinds.ContainsKey(a.GrainId.Type))
            .Select(a => new GrainRow(_kinds[a.GrainId.Type], a.GrainId.Key.ToString()!, NameOf(a.SiloAddress)))
            .OrderBy(g => g.Kind)
            .ThenBy(g => g.Key, StringComparer.Ordinal)
            .ToArray();

        var deviceRows = new List<DeviceRow>();
        foreach (var host in hosts.OrderBy(h => h.SiloName, StringComparer.Ordinal))
        {
            try
            {
                var leases = grains.GetGrain<IDeviceLeaseGrain>(host.SiloAddress.ToParsableString());
                foreach (var d in await leases.List())
                    deviceRows.Add(new DeviceRow(host.SiloName, d.Device, d.Holder?.Key.ToString()));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                deviceRows.Add(new DeviceRow(host.SiloName, "?", $"unreachable: {e.Message}"));
            }
        }

        var ids = rows.Where(g => g.Kind == GrainKind.Coordinator)
            .Select(g => g.Key)
            .Concat(runIds)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal);
        var runs = await Task.WhenAll(
            ids.Select(async id => RunView.Of(await grains.GetGrain<ICoordinatorGrain>(id).GetStatusAsync()))
        );
        var silos = hosts
            .Select(h => new SiloRow(h.SiloAddress.ToString(), h.SiloName, h.Status.ToString()))
            .OrderBy(s => s.Name, StringComparer.Ordinal)
            .ToArray();
        return new LiveSnapshot(
            DateTimeOffset.UtcNow,
            silos,
            rows,
            [.. deviceRows],
            [.. runs.Where(r => r.State != RunState.Created)]
        );
    }
}
