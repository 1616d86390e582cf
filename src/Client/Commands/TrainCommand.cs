using System.CommandLine;
using AlignCluster.Alignment.Data;
using AlignCluster.Client.Cluster;
using AlignCluster.Client.Reporting;
using AlignCluster.Contracts;
using AlignCluster.Grains.Configuration;
using AlignCluster.Grains.Demo;
using Spectre.Console;

namespace AlignCluster.Client.Commands;

/// <summary>
/// `aligncluster train --config run.yaml [--set key=value]… [--resume]`: one run on the embedded cluster (state in
/// --state), or with `--cluster host:port` on running silos. The config is validated before anything is written: bad
/// input leaves no run and no checkpoint behind.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config")
        {
            Description = "Run config (YAML). Without it the embedded default config is used.",
        };
        var set = new Option<string[]>("--set")
        {
            Description = "Override a config value, e.g. --set training.rounds=8 (repeatable).",
            AllowMultipleArgumentsPerToken = false,
        };
        var resume = new Option<bool>("--resume")
        {
            Description = "Continue an existing run from its last checkpoint.",
        };
        var state = CommonOptions.State();
        var cluster = CommonOptions.Cluster();
        var detach = new Option<bool>("--detach")
        {
            Description = "With --cluster: submit the run and return without following it.",
        };
        var run = new Option<string?>("--run")
        {
            Description = "With --resume: the run to continue (its stored config is used).",
        };
        var otlp = CommonOptions.OtlpEndpoint();
        var printConfig = new Option<bool>("--print-config")
        {
            Description = "Print the effective config as YAML and exit.",
        };
        var logdir = new Option<string?>("--logdir")
        {
            Description =
                "TensorBoard directory: events go to LOGDIR/RUN_ID/ (default: STATE/tensorboard; with --cluster "
                + "only when given; none = off).",
        };
        var dashboard = CommonOptions.Dashboard();
        var command = new Command("train", "Train one run (preference optimization with a named loss and selector).")
        {
            config,
            set,
            resume,
            run,
            state,
            cluster,
            CommonOptions.Certificate,
            detach,
            otlp,
            printConfig,
            logdir,
            dashboard,
        };
        command.SetAction(
            async (parse, ct) =>
                await CommandErrors.Guard(async () =>
                {
                    var overrides = parse.GetValue(set) ?? [];
                    string? configPath = parse.GetValue(config);
                    if (parse.GetValue(run) is { } runId)
                        overrides = [$"run_id={runId}", .. overrides];
                    var runConfig = RunConfigLoader.Load(configPath, overrides);
                    if (parse.GetValue(printConfig))
                    {
                        Console.Write(RunConfigLoader.ToYaml(runConfig));
                        return 0;
                    }
                    // Read and validate the whole dataset (encoded with the policy's tokenizer) and the hf model's text
                    // side before
                    // anything is written: bad input leaves no run behind.
                    try
                    {
                        if (runConfig.Policy.Kind == "hf")
                        {
                            ModelTextCodec.Load(runConfig.Policy.Path!);
                            ModelTextCodec.CheckWeights(runConfig.Policy.Path!);
                        }
                        if (runConfig.Data.Source == "file")
                            ReportSkipped(FileData.Load(runConfig).Report);
                    }
                    catch (ArgumentException e)
                    {
                        throw new ClientException(e.Message);
                    }
                    bool remote = parse.GetValue(cluster) is { Length: > 0 };
                    string? events = TensorBoardDirectory(
                        parse.GetValue(logdir),
                        remote ? null : parse.GetValue(state)!,
                        runConfig.RunId
                    );
                    using var telemetry = ClientTelemetry.Start(parse.GetValue(otlp), "aligncluster-train");
                    using var span = ClientTelemetry.StartCommand("train", runConfig.RunId);
                    var liveView = CommonOptions.LiveView(parse, dashboard);
                    if (remote)
                    {
                        if (liveView is not null)
                            throw new ClientException(
                                "--dashboard with --cluster: the silos serve the live view (start them with "
                                    + "--dashboard PORT)"
                            );
                        return await TrainRemoteAsync(
                            parse.GetValue(cluster)!,
                            runConfig,
                            parse.GetValue(resume),
                            parse.GetValue(detach),
                            events,
                            ct
                        );
                    }
                    if (parse.GetValue(resume))
                    {
                        EmbeddedCluster.RequireExisting(
                            parse.GetValue(state)!,
                            $"--resume: run '{runConfig.RunId}' does not exist"
                        );
                    }
                    await using var embedded = await EmbeddedCluster.StartAsync(
                        parse.GetValue(state)!,
                        liveView: liveView
                    );
                    if (embedded.LiveViewUrl is { } url)
                        Console.WriteLine(
                            $"live view: {new Uri(url, "run")} (Orleans dashboard: {new Uri(url, "dashboard/")})"
                        );
                    var index = embedded.Runs;
                    if (parse.GetValue(resume))
                    {
                        var stored = await index.GetAsync(runConfig.RunId)
                            ?? throw new ClientException(
                                $"--resume: run '{runConfig.RunId}' does not exist in {index.Name}"
                            );
                        if (
                            configPath is not null
                            || overrides.Any(o => !o.StartsWith("run_id=", StringComparison.Ordinal))
                        )
                            if (RunConfigLoader.ToYaml(stored) != RunConfigLoader.ToYaml(runConfig))
                                throw new ClientException(
                                    $"--resume: the given config differs from the one run '{runConfig.RunId}' was "
                                        + "started with; resume without --config/--set, or pick a new run_id"
                                );
                        runConfig = stored;
                    }
                    else
                        await index.AddAsync(runConfig);

                    var coordinator = embedded.Client.GetGrain<ICoordinatorGrain>(runConfig.RunId);
                    await coordinator.StartAsync(runConfig);
                    AnsiConsole.MarkupLine(
                        $"[bold]train[/] {Markup.Escape(runConfig.RunId)}: loss {runConfig.Loss.Name}, selection "
                            + $"{runConfig.Selection.Strategy} per {runConfig.Selection.Per}, "
                            + $"{runConfig.Training.Rounds} rounds; state in {Markup.Escape(embedded.StateDirectory)}"
                    );
                    var final = await WatchAsync(coordinator, events, ct);
                    Report.PrintRun(final);
                    return final.State == RunState.Completed ? 0 : 1;
                })
        );
        return command;
    }

    /// <summary>
    /// Where the run's TensorBoard events go (null: nowhere). A --logdir under a file is bad input, refused before any
    /// work (the default, under the state directory, is checked with it); nothing is created until the run has started.
    /// </summary>
    private static string? TensorBoardDirectory(string? logdir, string? stateDirectory, string runId)
    {
        if (logdir == "none" || (logdir is null && stateDirectory is null))
            return null;
        string directory = Path.GetFullPath(
            Path.Combine(logdir ?? Path.Combine(stateDirectory!, "tensorboard"), runId)
        );
        if (logdir is null)
            return directory;
        for (var d = new DirectoryInfo(directory); d is not null; d = d.Parent)
        {
            if (File.Exists(d.FullName))
                throw new ClientException(
                    $"--logdir: '{d.FullName}' is a file; name a directory for TensorBoard's events"
                );
            if (d.Exists)
                break;
        }
        return directory;
    }

    /// <summary>
    /// `--cluster`: the run goes to the silos' coordinator grain (which keeps its config and state); --resume continues
    /// a paused or interrupted run with the config it was started with.
    /// </summary>
    private static async Task<int> TrainRemoteAsync(
        string[] gateways,
        RunConfig runConfig,
        bool resume,
        bool detach,
        string? events,
        CancellationToken ct
    )
    {
        await using var remote = await RemoteCluster.ConnectAsync(gateways, ct: ct);
        ICoordinatorGrain coordinator;
        if (resume)
            coordinator = await RemoteCommands.ResumeRunAsync(remote, runConfig.RunId);
        else
            coordinator = (await RemoteCommands.StartRunAsync(remote, runConfig)).Coordinator;
        AnsiConsole.MarkupLine(
            $"[bold]train[/] {Markup.Escape(runConfig.RunId)}: loss {runConfig.Loss.Name}, selection "
                + $"{runConfig.Selection.Strategy} per {runConfig.Selection.Per}, "
                + $"{runConfig.Training.Rounds} rounds; on the cluster at "
                + $"{Markup.Escape(string.Join(",", remote.Gateways))}"
        );
        if (detach)
        {
            Console.WriteLine(
                $"submitted; follow it with: aligncluster status --cluster {string.Join(",", remote.Gateways)} "
                    + $"--run {runConfig.RunId}"
            );
            return 0;
        }
        // A lost silo (even the coordinator's or this client's gateway) is not the end of the run: it continues on the
        // survivors, so the client keeps following it through the remaining gateways.
        bool warned = false;
        var final = await RemoteCommands.Translate(() => WatchAsync(coordinator, events, ct, RemoteCluster.IsLost, e =>
                {
                    if (warned)
                        return;
                    warned = true;
                    string why = e.Message.Split('\n', 2)[0].Trim(); // Orleans quotes inner stack traces: one line
                    Console.Error.WriteLine(
                        $"warning: lost contact with the run ({e.GetType().Name}: {why}); "
                            + "following it through the remaining gateways"
                    );
                }), remote);
        Report.PrintRun(final);
        return final.State == RunState.Completed ? 0 : 1;
    }

    /// <summary>Prompts the data file gave fewer than 2 distinct candidates are not trained on: said once, with
    /// their lines.</summary>
    private static void ReportSkipped(ReadReport report)
    {
        if (report.SkippedTooFewCandidates > 0)
            Console.Error.WriteLine($"warning: {report}");
    }

    /// <summary>
    /// Follows the run to its end: a progress line on stderr (rounds, steps, ETA; the phase on a terminal) and, when
    /// <paramref name="events"/> is set, each round's scalars into TensorBoard as its report arrives.
    /// </summary>
    private static async Task<RunStatus> WatchAsync(
        ICoordinatorGrain coordinator,
        string? events,
        CancellationToken ct,
        Func<Exception, bool>? lost = null,
        Action<Exception>? onLost = null
    )
    {
        if (events is not null)
            Console.Error.WriteLine(
                $"TensorBoard events in {events}; watch with: tensorboard --logdir {Path.GetDirectoryName(events)}"
            );
        using var progress = ProgressLine.ForStandardError();
        using var board = events is null ? null : new TensorBoardRun(events);
        bool writing = board is not null;
        var final = await RunWatcher.WaitAsync(
            coordinator,
            s =>
            {
                if (writing)
                    try
                    {
                        board!.Update(s);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        // Training goes on without the curves: losing a plot must not lose the run.
                        writing = false;
                        progress.Note($"warning: TensorBoard events not written to {events}: {e.Message}");
                    }
                var (text, detail) = ProgressText.Train(s);
                progress.Update(text, detail);
            },
            ct: ct,
            lost: lost,
            onLost: onLost
        );
        progress.Done();
        return final;
    }
}
