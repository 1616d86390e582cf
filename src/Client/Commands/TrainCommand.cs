using System.CommandLine;
using AlignCluster.Alignment.Data;
using AlignCluster.Client.Cluster;
using AlignCluster.Grains.Configuration;
using AlignCluster.Grains.Demo;
using AlignCluster.Interfaces;
using Spectre.Console;

namespace AlignCluster.Client.Commands;

/// <summary>
/// `aligncluster train --config run.yaml [--set key=value]… [--resume]`: one run on the embedded cluster (state in
/// --state), or with `--cluster host:port` on running silos. The config is validated before anything is written: bad input leaves no run and no checkpoint behind.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = "Run config (YAML). Without it the embedded default config is used." };
        var set = new Option<string[]>("--set") { Description = "Override a config value, e.g. --set training.rounds=8 (repeatable).", AllowMultipleArgumentsPerToken = false };
        var resume = new Option<bool>("--resume") { Description = "Continue an existing run from its last checkpoint." };
        var state = CommonOptions.State();
        var cluster = CommonOptions.Cluster();
        var detach = new Option<bool>("--detach") { Description = "With --cluster: submit the run and return without following it." };
        var run = new Option<string?>("--run") { Description = "With --resume: the run to continue (its stored config is used)." };
        var otlp = CommonOptions.OtlpEndpoint();
        var printConfig = new Option<bool>("--print-config") { Description = "Print the effective config as YAML and exit." };
        var dashboard = CommonOptions.Dashboard();
        var command = new Command("train", "Train one run (preference optimization with a named loss and selector).")
        {
            config, set, resume, run, state, cluster, detach, otlp, printConfig, dashboard,
        };
        command.SetAction(async (parse, ct) => await CommandErrors.Guard(async () =>
        {
            var overrides = parse.GetValue(set) ?? [];
            string? configPath = parse.GetValue(config);
            if (parse.GetValue(run) is { } runId) overrides = [$"run_id={runId}", .. overrides];
            var runConfig = RunConfigLoader.Load(configPath, overrides);
            if (parse.GetValue(printConfig))
            {
                Console.Write(RunConfigLoader.ToYaml(runConfig));
                return 0;
            }
            // Read and validate the whole dataset (encoded with the policy's tokenizer) and the hf model's text side before
            // anything is written: bad input leaves no run behind.
            try
            {
                if (runConfig.Policy.Kind == "hf")
                {
                    ModelTextCodec.Load(runConfig.Policy.Path!);
                    ModelTextCodec.CheckWeights(runConfig.Policy.Path!);
                }
                if (runConfig.Data.Source == "file") ReportSkipped(FileData.Load(runConfig).Report);
            }
            catch (ArgumentException e) { throw new ClientException(e.Message); }
            using var telemetry = ClientTelemetry.Start(parse.GetValue(otlp), "aligncluster-train");
            var liveView = CommonOptions.LiveView(parse, dashboard);
            if (parse.GetValue(cluster) is { Length: > 0 } gateways)
            {
                if (liveView is not null)
                    throw new ClientException("--dashboard with --cluster: the silos serve the live view (start them with --dashboard PORT)");
                return await TrainRemoteAsync(gateways, runConfig, parse.GetValue(resume), parse.GetValue(detach), ct);
            }
            if (parse.GetValue(resume))
            {
                EmbeddedCluster.RequireExisting(parse.GetValue(state)!,
                    $"--resume: run '{runConfig.RunId}' does not exist");
            }
            await using var embedded = await EmbeddedCluster.StartAsync(parse.GetValue(state)!, liveView: liveView);
            if (embedded.LiveViewUrl is { } url)
                Console.WriteLine($"live view: {new Uri(url, "run")} (Orleans dashboard: {new Uri(url, "dashboard/")})");
            var index = embedded.Runs;
            if (parse.GetValue(resume))
            {
                var stored = await index.GetAsync(runConfig.RunId)
                    ?? throw new ClientException($"--resume: run '{runConfig.RunId}' does not exist in {index.Name}");
                if (configPath is not null || overrides.Any(o => !o.StartsWith("run_id=", StringComparison.Ordinal)))
                    if (RunConfigLoader.ToYaml(stored) != RunConfigLoader.ToYaml(runConfig))
                        throw new ClientException($"--resume: the given config differs from the one run '{runConfig.RunId}' was started with; resume without --config/--set, or pick a new run_id");
                runConfig = stored;
            }
            else await index.AddAsync(runConfig);

            var coordinator = embedded.Client.GetGrain<ICoordinatorGrain>(runConfig.RunId);
            await coordinator.StartAsync(runConfig);
            AnsiConsole.MarkupLine($"[bold]train[/] {Markup.Escape(runConfig.RunId)}: loss {runConfig.Loss.Name}, selection {runConfig.Selection.Strategy} per {runConfig.Selection.Per}, " +
                $"{runConfig.Training.Rounds} rounds; state in {Markup.Escape(embedded.StateDirectory)}");
            var final = await WatchAsync(coordinator, runConfig.Training.Rounds, ct);
            Report.PrintRun(final);
            return final.State == RunState.Completed ? 0 : 1;
        }));
        return command;
    }

    /// <summary>
    /// `--cluster`: the run goes to the silos' coordinator grain (which keeps its config and state); --resume continues
    /// a paused or interrupted run with the config it was started with.
    /// </summary>
    private static async Task<int> TrainRemoteAsync(string[] gateways, RunConfig runConfig, bool resume, bool detach, CancellationToken ct)
    {
        await using var remote = await RemoteCluster.ConnectAsync(gateways, ct);
        ICoordinatorGrain coordinator;
        if (resume) coordinator = await RemoteCommands.ResumeRunAsync(remote, runConfig.RunId);
        else coordinator = (await RemoteCommands.StartRunAsync(remote, runConfig)).Coordinator;
        AnsiConsole.MarkupLine($"[bold]train[/] {Markup.Escape(runConfig.RunId)}: loss {runConfig.Loss.Name}, selection {runConfig.Selection.Strategy} per {runConfig.Selection.Per}, " +
            $"{runConfig.Training.Rounds} rounds; on the cluster at {Markup.Escape(string.Join(",", remote.Gateways))}");
        if (detach)
        {
            Console.WriteLine($"submitted; follow it with: aligncluster status --cluster {string.Join(",", remote.Gateways)} --run {runConfig.RunId}");
            return 0;
        }
        var final = await RemoteCommands.Translate(() => WatchAsync(coordinator, runConfig.Training.Rounds, ct), remote);
        Report.PrintRun(final);
        return final.State == RunState.Completed ? 0 : 1;
    }

    /// <summary>Prompts the data file gave fewer than 2 distinct candidates are not trained on: said once, with
    /// their lines.</summary>
    private static void ReportSkipped(ReadReport report)
    {
        if (report.SkippedTooFewCandidates > 0) Console.Error.WriteLine($"warning: {report}");
    }

    private static string EvalSummary(EvalResult e) => e.Samples > 0 ? $"oracle reward {e.OracleReward:F3}"
        : e.Preference is { } p ? $"held-out preference accuracy {p.Accuracy:F3}" : "evaluated";

    private static async Task<RunStatus> WatchAsync(ICoordinatorGrain coordinator, int rounds, CancellationToken ct)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            int shown = -1;
            return await RunWatcher.WaitAsync(coordinator, s =>
            {
                if (s.Round == shown) return;
                shown = s.Round;
                var last = s.History.LastOrDefault();
                Console.WriteLine($"  round {s.Round}/{s.TotalRounds} ({s.Phase}){(last?.Eval is { } e ? $": {EvalSummary(e)}" : "")}");
            }, ct: ct);
        }
        RunStatus? final = null;
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask("preparing", maxValue: rounds + 1);
                final = await RunWatcher.WaitAsync(coordinator, s =>
                {
                    task.Value = s.State == RunState.Completed ? task.MaxValue : s.Round + (s.Baseline is null ? 0 : 1);
                    task.Description = Markup.Escape(s.Phase);
                }, ct: ct);
            });
        return final!;
    }
}
