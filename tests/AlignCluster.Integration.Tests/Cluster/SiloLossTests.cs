using System.Diagnostics.Metrics;
using System.Reflection;
using AlignCluster.Client.Cluster;
using AlignCluster.Contracts;
using AlignCluster.Grains.Checkpoints;
using AlignCluster.Grains.Coordinator;
using AlignCluster.Grains.Hosting;
using AlignCluster.Grains.Telemetry;
using AlignCluster.Hosting.Checkpoints;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace AlignCluster.Integration.Tests.Cluster;

/// <summary>
/// A silo holding a trainer dies mid-run while the coordinator's silo lives on: the failed round is retried from the
/// last checkpoint (checkpoint.restarts), the trainer re-activates on a spare device of another silo, and the run ends
/// with exactly the weights of an uninterrupted run (every draw derives from the seed, so a restart repeats the round).
/// </summary>
public class SiloLossTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task KillingATrainersSiloRestartsTheRoundAndEndsIdenticalToAnUninterruptedRun(int trainers)
    {
        CoordinatorService.RestartDelay = TimeSpan.FromMilliseconds(500);
        using var restarts = new CounterCapture(ClusterTelemetry.Name, ClusterTelemetry.RestartsInfo.Name);
        var tiny = TestConfigs.Tiny("silo-loss", rounds: 6) with { ReusePreparation = false };
        // Restarts wait 0.5, 1, 2, 4, 8 s: time for the membership to declare the killed silo dead.
        var config = tiny with
        {
            Training = tiny.Training with { Trainers = trainers },
            Checkpoint = new CheckpointConfig { Restarts = 5 },
        };

        // Silo 0 (the primary) has no device (coordinator and shards only); the others one CPU device each: one spare.
        string directory = TestConfigs.TempDirectory();
        var builder = new InProcessTestClusterBuilder((short)(trainers + 2));
        builder.ConfigureSilo(
            (options, silo) =>
            {
                // InProcessTestCluster names silos "…_N"; instance 0 is the first one started (cluster.Silos[0]).
                silo.AddAlignCluster(
                    directory,
                    options.SiloName.EndsWith("_0", StringComparison.Ordinal) ? [] : ["cpu:0"]
                );
                // A killed silo is declared dead within about a second (probe timeout × missed probes).
                silo.Configure<ClusterMembershipOptions>(o =>
                    (o.ProbeTimeout, o.NumMissedProbesLimit) = (TimeSpan.FromSeconds(1), 2)
                );
            }
        );
        builder.ConfigureClient(client => client.AddActivityPropagation());
        await using var cluster = builder.Build();
        await cluster.DeployAsync();
        var management = cluster.Client.GetGrain<IManagementGrain>(0);
        var primary = cluster.Silos[0];

        // A run id whose coordinator lands on silo 0, so killing a trainer's silo leaves the coordinator running.
        string runId = "";
        for (int i = 0; i < 64 && runId == ""; i++)
        {
            var candidate = cluster.Client.GetGrain<ICoordinatorGrain>($"{config.RunId}-{i}");
            await candidate.GetStatusAsync(); // a status call starts nothing
            if (await management.GetActivationAddress(candidate) == primary.SiloAddress)
                runId = $"{config.RunId}-{i}";
        }
        Assert.NotEqual("", runId);
        config = config with { RunId = runId };

        var coordinator = cluster.Client.GetGrain<ICoordinatorGrain>(runId);
        await coordinator.StartAsync(config);
        using (var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1)))
            while ((await coordinator.GetStatusAsync()).Round < 1)
                await Task.Delay(10, cts.Token);
        var lastTrainer = cluster.Client.GetGrain<ITrainerGrain>($"{runId}/trainer-{trainers - 1}");
        var host = await management.GetActivationAddress(lastTrainer);
        var victim = cluster.Silos.Single(s => s.SiloAddress == host);
        Assert.NotSame(primary, victim);
        await cluster.KillSiloAsync(victim);

        using var wait = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var status = await RunWatcher.WaitAsync(coordinator, poll: TimeSpan.FromMilliseconds(50), ct: wait.Token);
        Assert.True(status.State == RunState.Completed, $"{status.State}: {status.Error} ({status.Phase})");
        Assert.True(status.Restarts >= 1, "the killed trainer's round must have been restarted");
        Assert.Equal(status.Restarts, restarts.Total(("run.id", runId))); // the counter users watch
        Assert.Equal(Enumerable.Range(1, config.Training.Rounds), status.History.Select(h => h.Round));

        // The reference: the same config, uninterrupted, in a cluster of its own.
        var referenceDirectory = TestConfigs.TempDirectory();
        await using (var embedded = await EmbeddedCluster.StartAsync(referenceDirectory, cpuDevices: trainers))
            await ClusterHarness.RunToEndAsync(embedded, config);
        var expected = (await Checkpoints(referenceDirectory).ReadAsync(runId, config.Training.Rounds))!.Value;
        var actual = (await Checkpoints(directory).ReadAsync(runId, config.Training.Rounds))!.Value;
        foreach (var (e, a) in expected.Policy.Tensors.Zip(actual.Policy.Tensors))
        {
            Assert.Equal(e.Name, a.Name);
            Assert.Equal(e.Values, a.Values); // bit-identical weights and optimizer moments
        }
    }

    /// <summary>
    /// The trainer's silo dies after the last round is checkpointed and recorded, just as the coordinator frees the
    /// trainer's device: the run is complete and stays Completed (a dead silo holds no device to free). Before the
    /// fix the failed release turned the finished run into a Failed one.
    /// </summary>
    [Fact]
    public async Task ATrainerLostWhileItsDeviceIsFreedLeavesTheFinishedRunCompleted()
    {
        var config = TestConfigs.Tiny("lost-at-release", rounds: 1) with { ReusePreparation = false };
        await using var cluster = await EmbeddedCluster.StartAsync(TestConfigs.TempDirectory());
        var trainer = DispatchProxy.Create<ITrainerGrain, LostAtRelease>();
        var lost = (LostAtRelease)(object)trainer;
        lost.Inner = cluster.Client.GetGrain<ITrainerGrain>($"{config.RunId}/trainer-0");
        var state = new CoordinatorState { Config = config, State = RunState.Preparing };
        var service = new CoordinatorService(
            config.RunId,
            state,
            i => cluster.Client.GetGrain<IPromptShardGrain>(ShardKeys.Of(config.RunId, i)),
            trainer,
            () => Task.CompletedTask
        );

        await service.DriveAsync(() => state.State is RunState.Preparing or RunState.Running);

        Assert.Equal(1, lost.Releases); // the release was tried and failed
        Assert.True(state.State == RunState.Completed, $"{state.State}: {state.Error}");
        Assert.Equal([1], state.History.Select(h => h.Round));
    }

    /// <summary>A trainer whose silo is gone by the time it is released: every other call goes through.</summary>
    public class LostAtRelease : DispatchProxy
    {
        public ITrainerGrain Inner { get; set; } = null!;
        public int Releases { get; private set; }

        protected override object? Invoke(MethodInfo? method, object?[]? args)
        {
            if (method!.Name != nameof(ITrainerGrain.ReleaseAsync))
                return method.Invoke(Inner, args);
            Releases++;
            return Task.FromException(new SiloUnavailableException("the trainer's silo died"));
        }
    }

    private static CheckpointStore Checkpoints(string stateDirectory) =>
        new(new LocalCheckpointStorage(ClusterSetup.CheckpointDirectory(stateDirectory)));

    /// <summary>
    /// A replica loses its weights and group mid-run (here: deactivated by a call, as idle collection or a move would):
    /// the round fails, restarts from the checkpoint, and the run ends bit-identical to an uninterrupted one. (The
    /// deactivation closes the replica's Gloo sockets, so the others' collective fails at once; a replica whose sockets
    /// stay open is what the coordinator's group check guards against — see DataParallelTests.)
    /// </summary>
    [Fact]
    public async Task AReplicaThatLostItsGroupRestartsTheRoundInsteadOfHangingTheOthers()
    {
        CoordinatorService.RestartDelay = TimeSpan.FromMilliseconds(200);
        var tiny = TestConfigs.Tiny("lost-replica", rounds: 6) with { ReusePreparation = false };
        var config = tiny with { Training = tiny.Training with { Trainers = 2 } };
        string directory = TestConfigs.TempDirectory(),
            referenceDirectory = TestConfigs.TempDirectory();
        await using (var embedded = await EmbeddedCluster.StartAsync(referenceDirectory, cpuDevices: 2))
            await ClusterHarness.RunToEndAsync(embedded, config);

        await using var cluster = await EmbeddedCluster.StartAsync(directory, cpuDevices: 2);
        var coordinator = cluster.Client.GetGrain<ICoordinatorGrain>(config.RunId);
        await coordinator.StartAsync(config);
        using (var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1)))
            while ((await coordinator.GetStatusAsync()).Round < 1)
                await Task.Delay(10, cts.Token);
        await cluster.Client.GetGrain<ITrainerGrain>($"{config.RunId}/trainer-1").ReleaseAsync();

        using var wait = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var status = await RunWatcher.WaitAsync(coordinator, poll: TimeSpan.FromMilliseconds(50), ct: wait.Token);
        Assert.True(status.State == RunState.Completed, $"{status.State}: {status.Error} ({status.Phase})");
        Assert.True(status.Restarts >= 1, "the round after the replica was lost must have been restarted");
        var expected = (await Checkpoints(referenceDirectory).ReadAsync(config.RunId, config.Training.Rounds))!.Value;
        var actual = (await new CheckpointStore(cluster.Store).ReadAsync(config.RunId, config.Training.Rounds))!.Value;
        foreach (var (e, a) in expected.Policy.Tensors.Zip(actual.Policy.Tensors))
            Assert.Equal(e.Values, a.Values);
    }
}

/// <summary>Sums what one counter of one meter records while alive, per tag value (the value users' dashboards
/// show).</summary>
internal sealed class CounterCapture : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly List<(long Value, KeyValuePair<string, object?>[] Tags)> _measurements = [];

    public CounterCapture(string meter, string instrument)
    {
        _listener.InstrumentPublished = (i, l) =>
        {
            if (i.Meter.Name == meter && i.Name == instrument)
                l.EnableMeasurementEvents(i);
        };
        _listener.SetMeasurementEventCallback<long>(
            (_, value, tags, _) =>
            {
                lock (_measurements)
                    _measurements.Add((value, tags.ToArray()));
            }
        );
        _listener.Start();
    }

    public long Total((string Key, string Value) tag)
    {
        lock (_measurements)
            return _measurements
                .Where(m => m.Tags.Any(t => t.Key == tag.Key && Equals(t.Value, tag.Value)))
                .Sum(m => m.Value);
    }

    public void Dispose() => _listener.Dispose();
}
