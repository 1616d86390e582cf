using System.CommandLine;
using AlignCluster.Client.Cluster;
using AlignCluster.Client.Demo;
using AlignCluster.Client.Reporting;
using AlignCluster.Contracts;
using AlignCluster.Grains.Configuration;
using Spectre.Console;

namespace AlignCluster.Client.Commands;

/// <summary>`aligncluster demo`: the controlled experiment of <see cref="DemoProtocol"/> on the embedded
/// cluster.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var quick = new Option<bool>("--quick")
        {
            Description = "Smaller data and fewer rounds (about 2.5 minutes on 2 cores; the full demo about 6.5).",
        };
        var seeds = new Option<int>("--seeds") { Description = "Seeds per method.", DefaultValueFactory = _ => 3 };
        var noise = new Option<bool>("--inject-noise")
        {
            Description = "Add MC-PO Table 2's corrupted chosen (two tokens swapped) to every candidate set.",
        };
        var output = new Option<string>("--out")
        {
            Description = "Output directory (results.json, runs.json, plots/, state/).",
            DefaultValueFactory = _ => "demo-out",
        };
        var methods = new Option<string?>("--methods")
        {
            Description = $"Comma-separated subset of: {string.Join(", ", DemoProtocol.Methods.Select(m => m.Name))}.",
        };
        var policy = new Option<string>("--policy")
        {
            Description =
                "Policy kind: gpt2 (tiny GPT-2 on libtorch, default), llama (tiny Llama on libtorch) or toy "
                + "(plain C# log-linear model, seconds).",
            DefaultValueFactory = _ => "gpt2",
        };
        var set = new Option<string[]>("--set")
        {
            Description =
                "Override a value of every run's config, e.g. --set sft.epochs=8 (repeatable; names as in `train "
                + "--print-config`).",
            AllowMultipleArgumentsPerToken = false,
        };
        var profile = new Option<bool>("--profile")
        {
            Description = "Print the time spent per span (sft, generate, score, train, …) at the end.",
        };
        var otlp = CommonOptions.OtlpEndpoint();
        var command = new Command(
            "demo",
            "Run the preference-optimization experiment (DPO vs MC-PO vs ablations) on the embedded cluster."
        )
        {
            quick,
            seeds,
            noise,
            output,
            methods,
            policy,
            set,
            profile,
            otlp,
        };
        command.SetAction(
            async (parse, ct) =>
                await CommandErrors.Guard(async () =>
                {
                    int seedCount = parse.GetValue(seeds);
                    if (seedCount < 1)
                        throw new ClientException($"--seeds: {seedCount} must be ≥ 1");
                    var chosen = SelectMethods(parse.GetValue(methods));
                    string policyKind = parse.GetValue(policy)!;
                    if (policyKind is not ("toy" or "gpt2" or "llama"))
                        throw new ClientException($"--policy: '{policyKind}' is not one of toy, gpt2, llama");
                    var overrides = parse.GetValue(set) ?? [];
                    var customize = Compose(
                        PolicyCustomization(policyKind),
                        overrides.Length == 0 ? null : config => WithOverrides(config, overrides)
                    );
                    if (customize is not null)
                        // bad --set fails before any run starts
                        _ = customize(DemoProtocol.Config(chosen[0], 1, parse.GetValue(quick), parse.GetValue(noise)));
                    var options = new DemoOptions(
                        parse.GetValue(output)!,
                        parse.GetValue(quick),
                        seedCount,
                        parse.GetValue(noise),
                        chosen,
                        Math.Max(1, Environment.ProcessorCount),
                        customize
                    );
                    AnsiConsole.MarkupLine(
                        $"[bold]AlignCluster demo[/]: {chosen.Count} methods × {seedCount} seeds, reverse-digits task, "
                            + $"{(options.Quick ? "quick" : "full")} "
                            + $"size{(options.InjectNoise ? ", corrupted-chosen noise injected" : "")}; embedded "
                            + $"cluster, {options.Parallelism} runs at a time"
                    );
                    using var telemetry = ClientTelemetry.Start(parse.GetValue(otlp), "aligncluster-demo");
                    using var spans = parse.GetValue(profile) ? new SpanProfile() : null;
                    var outcome = await RunWithProgressAsync(options, ct);
                    Report.PrintResults(outcome);
                    spans?.Print();
                    return 0;
                })
        );
        return command;
    }

    /// <summary>
    /// The demo's configs are tuned for the toy policy; a transformer keeps the protocol and takes Adam-sized learning
    /// rates (the toy's 0.02 is too large for a transformer), a little weight decay and a longer SFT.
    /// </summary>
    private static Func<RunConfig, RunConfig>? PolicyCustomization(string kind) =>
        kind == "toy"
            ? null
            : config =>
                config with
                {
                    Policy = config.Policy with { Kind = kind, WeightDecay = 0.01 },
                    // From scratch, a transformer needs more SFT passes than the log-linear toy to reverse digits at
                    // all (oracle reward
                    // of the SFT policy, quick size, seed 1: 3 epochs 0.16, 8 → 0.27, 16 → 0.29, 30 → 0.34); SFT runs
                    // once per seed.
                    Sft = config.Sft with
                    {
                        LearningRate = 3e-3,
                        Epochs = 30,
                    },
                    Training = config.Training with { LearningRate = 1e-3 },
                };

    private static Func<RunConfig, RunConfig>? Compose(
        Func<RunConfig, RunConfig>? first,
        Func<RunConfig, RunConfig>? second
    ) =>
        first is null ? second
        : second is null ? first
        : config => second(first(config));

    /// <summary>Applies `--set key=value` overrides through the run-config loader (same names, parsing and checks as
    /// `train`).</summary>
    private static RunConfig WithOverrides(RunConfig config, IReadOnlyList<string> overrides)
    {
        try
        {
            return RunConfigLoader.FromYaml(RunConfigLoader.ToYaml(config), "--set", overrides);
        }
        catch (ConfigException e)
        {
            throw new ClientException(e.Message);
        }
    }

    private static List<DemoMethod> SelectMethods(string? list)
    {
        if (string.IsNullOrWhiteSpace(list))
            return [.. DemoProtocol.Methods];
        return list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(name =>
                DemoProtocol.Methods.FirstOrDefault(m => m.Name == name)
                ?? throw new ClientException(
                    $"--methods: unknown method '{name}'; known: "
                        + $"{string.Join(", ", DemoProtocol.Methods.Select(m => m.Name))}"
                )
            )
            .ToList();
    }

    private static async Task<DemoOutcome> RunWithProgressAsync(DemoOptions options, CancellationToken ct)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
            return await DemoRunner.RunAsync(
                options,
                (method, seed, status) =>
                {
                    if (RunWatcher.IsFinished(status.State))
                        Console.WriteLine(
                            $"  {status.RunId}: {status.State}, oracle reward "
                                + $"{status.History.LastOrDefault()?.Eval?.OracleReward:F3}"
                        );
                },
                ct
            );

        DemoOutcome? outcome = null;
        await AnsiConsole
            .Progress()
            .Columns(
                new TaskDescriptionColumn(),
                new ProgressBarColumn(),
                new PercentageColumn(),
                new ElapsedTimeColumn(),
                new SpinnerColumn()
            )
            .StartAsync(async context =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                foreach (var seed in Enumerable.Range(1, options.Seeds))
                foreach (var method in options.Methods)
                {
                    var config = DemoProtocol.Config(method, (ulong)seed, options.Quick, options.InjectNoise);
                    tasks[config.RunId] = context.AddTask(config.RunId, maxValue: config.Training.Rounds + 1);
                }
                outcome = await DemoRunner.RunAsync(
                    options,
                    (_, _, status) =>
                    {
                        var task = tasks[status.RunId];
                        task.Value =
                            status.State == RunState.Completed
                                ? task.MaxValue
                                : status.Round + (status.Baseline is null ? 0 : 1);
                        task.Description = $"{status.RunId} [grey]{Markup.Escape(status.Phase)}[/]";
                    },
                    ct
                );
            });
        return outcome!;
    }
}
