using System.Diagnostics;
using AlignCluster.Client.Cluster;
using AlignCluster.Contracts;

namespace AlignCluster.Client.Demo;

/// <summary>What to run.</summary>
/// <param name="Customize">Adjusts each run's config (tests shrink the sizes with it).</param>
public sealed record DemoOptions(
    string OutputDirectory,
    bool Quick,
    int Seeds,
    bool InjectNoise,
    IReadOnlyList<DemoMethod> Methods,
    int Parallelism,
    Func<RunConfig, RunConfig>? Customize = null
);

/// <summary>What came out: the runs' final statuses, the aggregate, the files written and the wall time.</summary>
public sealed record DemoOutcome(
    IReadOnlyList<(DemoMethod Method, RunStatus Status)> Runs,
    DemoResults Results,
    IReadOnlyList<string> Files,
    TimeSpan Elapsed
);

/// <summary>
/// Runs the demo protocol through the grains of an embedded cluster (state in OUT/state): one coordinator per
/// (method, seed), <see cref="DemoOptions.Parallelism"/> runs at a time; then results.json, runs.json and the plots.
/// </summary>
public static class DemoRunner
{
    public static async Task<DemoOutcome> RunAsync(
        DemoOptions options,
        Action<DemoMethod, ulong, RunStatus>? onStatus = null,
        CancellationToken ct = default
    )
    {
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(options.OutputDirectory);
        string stateDirectory = Path.Combine(options.OutputDirectory, "state");
        // The demo's cluster state is scratch: a previous demo's runs (same ids) would otherwise be "resumed" as done.
        if (Directory.Exists(stateDirectory))
            Directory.Delete(stateDirectory, recursive: true);

        await using var cluster = await EmbeddedCluster.StartAsync(stateDirectory, cpuDevices: options.Parallelism);
        // One method of every seed prepares round 0 (SFT policy, rated candidates, reference log-probs); the others of
        // that seed wait until it has, then reuse it (RunConfig.ReusePreparation) instead of preparing it again side
        // by side — which they did whenever a free slot came before the first run's preparation ended (e.g. 1 seed).
        var first = options.Methods[0];
        var jobs = (
            from seed in Enumerable.Range(1, options.Seeds)
            from method in options.Methods
            select (method, seed: (ulong)seed)
        )
            .OrderBy(job => job.method == first ? 0 : 1)
            .ToList();
        var prepared = Enumerable
            .Range(1, options.Seeds)
            .ToDictionary(
                seed => (ulong)seed,
                _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)
            );
        var results = new (DemoMethod, RunStatus)[jobs.Count];
        using var gate = new SemaphoreSlim(Math.Max(1, options.Parallelism));
        await Task.WhenAll(
            jobs.Select(
                async (job, i) =>
                {
                    bool preparer = job.method == first;
                    if (!preparer)
                        await prepared[job.seed].Task.WaitAsync(ct); // before taking a slot: the preparer may need it
                    await gate.WaitAsync(ct);
                    try
                    {
                        var config = DemoProtocol.Config(job.method, job.seed, options.Quick, options.InjectNoise);
                        if (options.Customize is not null)
                            config = options.Customize(config);
                        var coordinator = cluster.Client.GetGrain<ICoordinatorGrain>(config.RunId);
                        await coordinator.StartAsync(config);
                        var status = await RunWatcher.WaitAsync(
                            coordinator,
                            s =>
                            {
                                if (preparer && s.State is RunState.Running or RunState.Completed)
                                    prepared[job.seed].TrySetResult();
                                onStatus?.Invoke(job.method, job.seed, s);
                            },
                            ct: ct
                        );
                        if (status.State != RunState.Completed)
                            throw new ClientException(
                                $"demo run {config.RunId} ended {status.State}: {status.Error}",
                                exitCode: 1
                            );
                        results[i] = (job.method, status);
                    }
                    finally
                    {
                        if (preparer)
                            prepared[job.seed].TrySetResult(); // a failed preparer must not hold the others back
                        gate.Release();
                    }
                }
            )
        );

        var aggregate = DemoResults.From(results);
        var files = new List<string>();
        string resultsPath = Path.Combine(options.OutputDirectory, "results.json");
        aggregate.Write(resultsPath);
        files.Add(resultsPath);
        string runsPath = Path.Combine(options.OutputDirectory, "runs.json");
        await File.WriteAllTextAsync(
            runsPath,
            System.Text.Json.JsonSerializer.Serialize(
                results.Select(r => new { method = r.Item1.Name, status = r.Item2 }),
                new System.Text.Json.JsonSerializerOptions { WriteIndented = true }
            ),
            ct
        );
        files.Add(runsPath);
        files.AddRange(DemoPlots.Write(Path.Combine(options.OutputDirectory, "plots"), results));
        return new DemoOutcome(results, aggregate, files, clock.Elapsed);
    }
}
