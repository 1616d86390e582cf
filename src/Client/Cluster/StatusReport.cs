using System.Text.Json;
using System.Text.Json.Serialization;
using AlignCluster.Contracts;
using Spectre.Console;

namespace AlignCluster.Client.Cluster;

/// <summary>
/// What `status` reports, gathered once and written as text or, with --json, as one JSON object (the fields are
/// documented in docs/operations.md, "status --json"). Silo addresses are Orleans' SiloAddress strings
/// ("S127.0.0.1:11111:&lt;generation&gt;"), so a run's placement can be matched against the silo list.
/// </summary>
public sealed record StatusReport(ClusterSummary Cluster, IReadOnlyList<RunSummary> Runs)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>The cluster's silos and the runs (<paramref name="runIds"/>) with where their grains are.</summary>
    public static async Task<StatusReport> GatherAsync(
        IClusterClient client,
        string mode,
        IReadOnlyList<string> gateways,
        string storage,
        IEnumerable<string> runIds,
        Func<string, Task<IReadOnlyList<int>?>> checkpoints
    )
    {
        var hosts = await client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: false);
        var silos = hosts
            .OrderBy(h => h.Key.ToString(), StringComparer.Ordinal)
            .Select(h => new SiloSummary(h.Key.ToString(), h.Value.ToString()))
            .ToList();
        var runs = new List<RunSummary>();
        foreach (string id in runIds)
        {
            var coordinator = client.GetGrain<ICoordinatorGrain>(id);
            runs.Add(
                RunSummary.From(
                    await coordinator.GetStatusAsync(),
                    await coordinator.GetPlacementAsync(),
                    await checkpoints(id)
                )
            );
        }
        return new StatusReport(new ClusterSummary(mode, [.. gateways], storage, silos), runs);
    }

    /// <summary>The silos as a table (text output).</summary>
    public void PrintSilos()
    {
        int active = Cluster.Silos.Count(s => s.Status == nameof(SiloStatus.Active));
        AnsiConsole.MarkupLine(
            $"Cluster: {active} active silo(s) of {Cluster.Silos.Count}, gateway "
                + $"{Markup.Escape(string.Join(",", Cluster.Gateways))}"
        );
        var table = new Table().Border(TableBorder.Rounded).AddColumn("silo").AddColumn("status");
        foreach (var silo in Cluster.Silos)
            table.AddRow(Markup.Escape(silo.Address), silo.Status);
        AnsiConsole.Write(table);
    }

    /// <summary>Where a run's coordinator and trainers are, and how often it recovered (text output).</summary>
    public static void PrintPlacement(RunSummary run)
    {
        string trainers =
            run.Trainers.Length == 0
                ? "none yet"
                : string.Join(", ", run.Trainers.Select((t, r) => $"trainer-{r} on {t ?? "(not active)"}"));
        Console.WriteLine($"placement: coordinator on {run.Coordinator}; {trainers}");
        Console.WriteLine(
            $"recovery: {run.Restarts} round(s) restarted from a checkpoint after a failure, "
                + $"{run.Resumed} resume(s) by a new coordinator activation"
        );
    }
}

/// <param name="Mode">"embedded" (this process) or "remote" (running silos through gateways).</param>
/// <param name="Storage">Embedded: the state store; remote: "silos" (the silos keep the runs).</param>
public sealed record ClusterSummary(string Mode, string[] Gateways, string Storage, IReadOnlyList<SiloSummary> Silos);

/// <param name="Status">Orleans' SiloStatus: Active, Joining, ShuttingDown, Dead, …</param>
public sealed record SiloSummary(string Address, string Status);

/// <param name="Coordinator">The silo of the run's coordinator.</param>
/// <param name="Trainers">The silo of each trainer replica (null: not active now).</param>
/// <param name="Checkpoints">Rounds with a complete checkpoint (embedded; null on a remote cluster).</param>
public sealed record RunSummary(
    string RunId,
    RunState State,
    int Round,
    int TotalRounds,
    string Phase,
    int Restarts,
    int Resumed,
    string? Error,
    string Coordinator,
    string?[] Trainers,
    IReadOnlyList<int>? Checkpoints,
    EvalSummary? Baseline,
    IReadOnlyList<RoundSummary> Rounds
)
{
    public static RunSummary From(RunStatus s, RunPlacement placement, IReadOnlyList<int>? checkpoints) =>
        new(
            s.RunId,
            s.State,
            s.Round,
            s.TotalRounds,
            s.Phase,
            s.Restarts,
            s.Resumed,
            s.Error,
            placement.Coordinator,
            placement.Trainers,
            checkpoints,
            EvalSummary.From(s.Baseline),
            [
                .. s.History.Select(r => new RoundSummary(
                    r.Round,
                    r.Mean.Loss,
                    r.Mean.RewardsMargins,
                    r.Mean.RewardsAccuracies,
                    r.SelectionChangeRate,
                    r.Seconds,
                    EvalSummary.From(r.Eval)
                )),
            ]
        );
}

/// <param name="Seconds">Wall time of the round.</param>
public sealed record RoundSummary(
    int Round,
    double Loss,
    double RewardsMargins,
    double RewardsAccuracies,
    double SelectionChangeRate,
    double Seconds,
    EvalSummary? Eval
);

/// <param name="OracleReward">Null when the reward function did not rate the samples.</param>
/// <param name="PreferenceAccuracy">Held-out preference accuracy (preference files), else null.</param>
public sealed record EvalSummary(
    double? OracleReward,
    double? WinRate,
    double? KlToReference,
    int Samples,
    double? PreferenceAccuracy
)
{
    public static EvalSummary? From(EvalResult? e) =>
        e is null
            ? null
            : new(
                e.Samples > 0 ? e.OracleReward : null,
                e.Samples > 0 ? e.WinRate : null,
                e.Samples > 0 ? e.KlToReference : null,
                e.Samples,
                e.Preference?.Accuracy
            );
}
