using AlignCluster.Client.Cluster;
using AlignCluster.Contracts;
using AlignCluster.Grains.Telemetry;
using AlignCluster.Hosting.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace AlignCluster.Integration.Tests.Cluster;

/// <summary>
/// The run's metrics as OpenTelemetry exports them (AddAlignClusterTelemetry, in-memory exporter, as a silo wires it
/// for
/// OTLP): every instrument of the documented table with its name and unit, and values that match what the run itself
/// reports through another path (the coordinator's persisted status and the shards' own data).
/// </summary>
public class RunMetricsTests
{
    [Fact]
    public async Task RunMetricsAreExportedWithDocumentedNamesUnitsAndTheRunsValues()
    {
        var exported = new List<Metric>();
        var services = new ServiceCollection();
        services.AddAlignClusterTelemetry(
            new TelemetryOptions { ServiceName = "metrics-test", InMemoryMetrics = exported }
        );
        await using var telemetry = services.BuildServiceProvider();
        var meters = telemetry.GetRequiredService<MeterProvider>();

        // Other tests of this assembly train at the same time on the same (static) meter: only this run's points count.
        string runId = $"metrics-{Guid.NewGuid():N}"[..16];
        const int rounds = 3;
        RunStatus status;
        long prompts,
            tokensPerRound;
        await using (var cluster = await EmbeddedCluster.StartAsync(TestConfigs.TempDirectory(), cpuDevices: 1))
        {
            var config = TestConfigs.Tiny(runId, rounds: rounds) with { ReusePreparation = false };
            var coordinator = cluster.Client.GetGrain<ICoordinatorGrain>(runId);
            await coordinator.StartAsync(config);
            status = await RunWatcher.WaitAsync(coordinator);
            Assert.True(status.State == RunState.Completed, $"{status.State}: {status.Error}");
            // The shards' own account of the training input (no online generation: the same in every round).
            var shards = Enumerable
                .Range(0, config.Shards)
                .Select(i => cluster.Client.GetGrain<IPromptShardGrain>($"{runId}/shard-{i}"))
                .ToArray();
            prompts = (await Task.WhenAll(shards.Select(s => s.ReportAsync()))).Sum(r => (long)r.Prompts);
            var items = (await Task.WhenAll(shards.Select(s => s.GetTrainingItemsAsync(rounds))))
                .SelectMany(g => g)
                .ToArray();
            tokensPerRound = items.Sum(g =>
                (long)g.PromptTokenIds.Length + g.Candidates.Sum(c => (long)c.TokenIds.Length)
            );
        }
        Assert.True(meters.ForceFlush(), "the metric reader did not flush");
        var byName = exported.GroupBy(m => m.Name).ToDictionary(g => g.Key, g => g.Last());

        // Names, units and kinds, as the table in docs/operations.md lists them; restarts only appear after a failure.
        foreach (var info in ClusterTelemetry.Instruments.Where(i => i != ClusterTelemetry.RestartsInfo))
        {
            Assert.True(byName.TryGetValue(info.Name, out var metric), $"{info.Name} was not exported");
            Assert.Equal(ClusterTelemetry.Name, metric.MeterName);
            Assert.Equal(info.Unit, metric.Unit);
            Assert.Equal(
                info.Kind switch
                {
                    ClusterTelemetry.InstrumentKind.Histogram => MetricType.Histogram,
                    ClusterTelemetry.InstrumentKind.Gauge => MetricType.DoubleGauge,
                    _ => MetricType.LongSum,
                },
                metric.MetricType
            );
        }

        // Per-step histograms: one measurement per optimizer step of the run, summing to the steps the status holds.
        var steps = status.History.SelectMany(r => r.Steps).ToArray();
        Assert.NotEmpty(steps);
        var loss = Point(byName["aligncluster.train.loss"], runId);
        Assert.Equal(steps.Length, loss.GetHistogramCount());
        Assert.Equal(steps.Sum(s => s.Loss), loss.GetHistogramSum(), 9);
        var margins = Point(byName["aligncluster.train.rewards.margins"], runId);
        Assert.Equal(steps.Sum(s => s.RewardsMargins), margins.GetHistogramSum(), 9);
        var entropy = Point(byName["aligncluster.selection.kernel_entropy"], runId);
        Assert.Equal(steps.Sum(s => s.KernelEntropy), entropy.GetHistogramSum(), 9);

        // Per-round gauges hold the last round's values.
        var last = status.History[^1];
        Assert.Equal(rounds, last.Round);
        Assert.Equal(
            last.SelectionChangeRate,
            Point(byName["aligncluster.selection.change_rate"], runId).GetGaugeLastValueDouble()
        );
        Assert.Equal(
            last.Eval!.OracleReward,
            Point(byName["aligncluster.eval.oracle_reward"], runId).GetGaugeLastValueDouble()
        );
        Assert.Equal(
            last.Eval.KlToReference,
            Point(byName["aligncluster.eval.kl_to_reference"], runId).GetGaugeLastValueDouble()
        );
        Assert.True(Point(byName["aligncluster.train.pairs_per_second"], runId).GetGaugeLastValueDouble() > 0);
        Assert.True(Point(byName["aligncluster.train.tokens_per_second"], runId).GetGaugeLastValueDouble() > 0);

        // Counters: rounds done; pairs = one negative per prompt per round (mc, M = 1, selected per step);
        // tokens = every prompt and candidate of the training input, each round.
        Assert.Equal(rounds, Point(byName["aligncluster.run.rounds"], runId).GetSumLong());
        Assert.Equal(rounds * prompts, Point(byName["aligncluster.train.pairs"], runId).GetSumLong());
        Assert.Equal(rounds * tokensPerRound, Point(byName["aligncluster.train.tokens"], runId).GetSumLong());
    }

    [Fact]
    public void OperationsDocListsEveryInstrumentWithItsUnit()
    {
        string dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "AlignCluster.sln")))
            dir = Path.GetDirectoryName(dir)!;
        string doc = File.ReadAllText(Path.Combine(dir, "docs", "operations.md"));
        foreach (var info in ClusterTelemetry.Instruments)
            Assert.Contains($"| `{info.Name}` | `{info.Unit}` | {info.Kind.ToString().ToLowerInvariant()} |", doc);
    }

    /// <summary>The metric's point for <paramref name="runId"/> (its run.id tag).</summary>
    private static MetricPoint Point(Metric metric, string runId)
    {
        foreach (ref readonly var point in metric.GetMetricPoints())
        foreach (var tag in point.Tags)
            if (tag.Key == "run.id" && Equals(tag.Value, runId))
                return point;
        throw new Xunit.Sdk.XunitException($"{metric.Name}: no point for run {runId}");
    }
}
