using System.CommandLine;
using AlignCluster.Client.Cluster;
using AlignCluster.Grains.Checkpoints;
using AlignCluster.Interfaces;
using Spectre.Console;

namespace AlignCluster.Client.Commands;

/// <summary>`aligncluster status [--run ID] [--cluster host:port]`: the cluster, and every run's state (or one run's rounds). Never resumes a run.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var state = CommonOptions.State();
        var cluster = CommonOptions.Cluster();
        var run = new Option<string?>("--run") { Description = "Show one run's rounds." };
        var command = new Command("status", "Show the cluster and its runs.") { state, cluster, run };
        command.SetAction(async (parse, ct) => await CommandErrors.Guard(async () =>
        {
            if (parse.GetValue(cluster) is { Length: > 0 } gateways)
            {
                await using var remote = await RemoteCluster.ConnectAsync(gateways, ct);
                return await RemoteCommands.PrintStatusAsync(remote, parse.GetValue(run));
            }
            string directory = parse.GetValue(state)!;
            EmbeddedCluster.RequireExisting(directory);
            await using var embedded = await EmbeddedCluster.StartAsync(directory, autoResume: false);
            AnsiConsole.MarkupLine($"Cluster: embedded, 1 silo (this process), storage {Markup.Escape(embedded.Store.Name)}");
            var index = embedded.Runs;
            var checkpoints = new CheckpointStore(embedded.Store);
            if (parse.GetValue(run) is { } runId)
            {
                if (await index.GetAsync(runId) is null) throw new ClientException($"run '{runId}' does not exist in {index.Name}");
                Report.PrintRun(await embedded.Client.GetGrain<ICoordinatorGrain>(runId).GetStatusAsync());
                return 0;
            }
            var table = new Table().Border(TableBorder.Rounded).AddColumn("run").AddColumn("state").AddColumn("round")
                .AddColumn("phase").AddColumn("held-out").AddColumn("checkpoints");
            foreach (var id in await index.ListAsync())
            {
                var s = await embedded.Client.GetGrain<ICoordinatorGrain>(id).GetStatusAsync();
                var eval = s.History.LastOrDefault(h => h.Eval is not null)?.Eval ?? s.Baseline;
                table.AddRow(Markup.Escape(id), s.State.ToString(), $"{s.Round}/{s.TotalRounds}", Markup.Escape(s.Phase),
                    Markup.Escape(HeldOut(eval)), string.Join(", ", await checkpoints.RoundsAsync(id)));
            }
            AnsiConsole.Write(table);
            return 0;
        }));
        return command;
    }

    /// <summary>Oracle reward when the evaluation sampled; preference accuracy for file data without an oracle.</summary>
    private static string HeldOut(EvalResult? eval) => eval switch
    {
        null => "",
        { Samples: > 0 } e => $"oracle reward {e.OracleReward:F3}",
        { Preference: { } p } => $"pref. accuracy {p.Accuracy:F3}",
        _ => "n/a",
    };
}
