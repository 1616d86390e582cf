using System.CommandLine;
using AlignCluster.Client.Cluster;
using AlignCluster.Contracts;
using AlignCluster.Grains.Checkpoints;
using Spectre.Console;

namespace AlignCluster.Client.Commands;

/// <summary>
/// `aligncluster status [--run ID] [--cluster host:port] [--json]`: the cluster, and every run's state (or one run's
/// rounds), with the silo of each run's coordinator and trainers and the recoveries after a lost silo. Never resumes
/// a run on the embedded cluster.
/// </summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var state = CommonOptions.State();
        var cluster = CommonOptions.Cluster();
        var run = new Option<string?>("--run") { Description = "Show one run's rounds." };
        var json = new Option<bool>("--json") { Description = "Write one JSON object (fields: docs/operations.md)." };
        var command = new Command("status", "Show the cluster and its runs.")
        {
            state,
            cluster,
            CommonOptions.Certificate,
            run,
            json,
        };
        command.SetAction(
            async (parse, ct) =>
                await CommandErrors.Guard(async () =>
                {
                    string? runId = parse.GetValue(run);
                    StatusReport report;
                    if (parse.GetValue(cluster) is { Length: > 0 } gateways)
                    {
                        await using var remote = await RemoteCluster.ConnectAsync(gateways, ct: ct);
                        // The silos keep the runs: a named one must exist there (refused with exit 2 otherwise).
                        if (runId is not null)
                            await RemoteCommands.ExistingRunAsync(remote, runId);
                        report = await RemoteCommands.Translate(
                            () =>
                                StatusReport.GatherAsync(
                                    remote.Client,
                                    "remote",
                                    remote.Gateways,
                                    "silos",
                                    runId is null ? [] : [runId],
                                    _ => Task.FromResult<IReadOnlyList<int>?>(null)
                                ),
                            remote
                        );
                        return await PrintAsync(report, runId, parse.GetValue(json), () =>
                            RemoteCommands.GetRunAsync(remote, runId!)
                        );
                    }
                    string directory = parse.GetValue(state)!;
                    EmbeddedCluster.RequireExisting(directory);
                    await using var embedded = await EmbeddedCluster.StartAsync(directory, autoResume: false);
                    var index = embedded.Runs;
                    if (runId is not null && await index.GetAsync(runId) is null)
                        throw new ClientException($"run '{runId}' does not exist in {index.Name}");
                    var checkpoints = new CheckpointStore(embedded.Store);
                    report = await StatusReport.GatherAsync(
                        embedded.Client,
                        "embedded",
                        [],
                        embedded.Store.Name,
                        runId is null ? await index.ListAsync() : [runId],
                        async id => await checkpoints.RoundsAsync(id)
                    );
                    return await PrintAsync(report, runId, parse.GetValue(json), () =>
                        embedded.Client.GetGrain<ICoordinatorGrain>(runId!).GetStatusAsync()
                    );
                })
        );
        return command;
    }

    private static async Task<int> PrintAsync(
        StatusReport report,
        string? runId,
        bool json,
        Func<Task<RunStatus>> status
    )
    {
        if (json)
        {
            Console.WriteLine(report.ToJson());
            return 0;
        }
        if (report.Cluster.Mode == "remote")
            report.PrintSilos();
        else
            AnsiConsole.MarkupLine(
                $"Cluster: embedded, 1 silo (this process), storage {Markup.Escape(report.Cluster.Storage)}"
            );
        if (runId is not null)
        {
            Report.PrintRun(await status());
            StatusReport.PrintPlacement(report.Runs[0]);
            return 0;
        }
        if (report.Cluster.Mode == "remote")
        {
            AnsiConsole.MarkupLine("Runs are kept by the silos: pass --run ID to show one.");
            return 0;
        }
        var table = new Table()
            .Border(TableBorder.Rounded)
            .AddColumn("run")
            .AddColumn("state")
            .AddColumn("round")
            .AddColumn("phase")
            .AddColumn("held-out")
            .AddColumn("checkpoints")
            .AddColumn("restarts");
        foreach (var r in report.Runs)
        {
            var eval = r.Rounds.LastOrDefault(h => h.Eval is not null)?.Eval ?? r.Baseline;
            table.AddRow(
                Markup.Escape(r.RunId),
                r.State.ToString(),
                $"{r.Round}/{r.TotalRounds}",
                Markup.Escape(r.Phase),
                Markup.Escape(HeldOut(eval)),
                string.Join(", ", r.Checkpoints ?? []),
                $"{r.Restarts + r.Resumed}"
            );
        }
        AnsiConsole.Write(table);
        return 0;
    }

    /// <summary>Oracle reward when the evaluation sampled; preference accuracy for file data without an
    /// oracle.</summary>
    private static string HeldOut(EvalSummary? eval) =>
        eval switch
        {
            null => "",
            { OracleReward: { } reward } => $"oracle reward {reward:F3}",
            { PreferenceAccuracy: { } accuracy } => $"pref. accuracy {accuracy:F3}",
            _ => "n/a",
        };
}
