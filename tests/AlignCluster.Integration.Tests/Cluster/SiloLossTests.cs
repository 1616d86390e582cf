using AlignCluster.Client.Cluster;
using AlignCluster.Grains.Checkpoints;
using AlignCluster.Grains.Hosting;
using AlignCluster.Grains.Services;
using AlignCluster.Interfaces;
using AlignCluster.Runtime.Messaging;
using AlignCluster.Runtime.Storage;
using AlignCluster.Runtime.Telemetry;
using AlignCluster.Runtime.Testing;

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
        CoordinatorService.RestartDelay = TimeSpan.FromMilliseconds(200);
        using var telemetry = TelemetrySetup.Start(new TelemetryOptions { ServiceName = "silo-loss-test", CaptureInMemory = true });
        var tiny = TestConfigs.Tiny("silo-loss", rounds: 6) with { ReusePreparation = false };
        var config = tiny with { Training = tiny.Training with { Trainers = trainers } };

        // Silo 0 has no device (coordinator and shards only); silos 1..trainers+1 one CPU device each: one spare.
        var store = new LocalDirectoryStateStore(TestConfigs.TempDirectory());
        await using var cluster = await InProcessCluster.StartAsync(ClusterSetup.SiloOptions(store), silos: trainers + 2,
            i => i == 0 ? [] : [new DeviceInfo("cpu:0", "cpu")]);
        // A run id whose coordinator lands on silo 0, so killing a trainer's silo leaves the coordinator running.
        var runId = await FirstRunIdOnSilo(cluster, cluster.Silos[0], config.RunId);
        config = config with { RunId = runId };

        var coordinator = cluster.Client.GetGrain<ICoordinatorGrain>(runId);
        await coordinator.StartAsync(config);
        using (var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1)))
            while ((await coordinator.GetStatusAsync()).Round < 1) await Task.Delay(10, cts.Token);
        var lastTrainer = GrainIdOf<ITrainerGrain>($"{runId}/trainer-{trainers - 1}");
        var victim = cluster.Silos.Single(s => s.HostsActivation(lastTrainer));
        Assert.NotSame(cluster.Silos[0], victim);
        await cluster.KillSiloAsync(victim);

        using var wait = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var status = await RunWatcher.WaitAsync(coordinator, poll: TimeSpan.FromMilliseconds(50), ct: wait.Token);
        Assert.True(status.State == RunState.Completed, $"{status.State}: {status.Error} ({status.Phase})");
        Assert.True(status.Restarts >= 1, "the killed trainer's round must have been restarted");
        Assert.Equal(status.Restarts, telemetry.Metrics!.Find("run/restarts")?.Total(("run.id", runId)) ?? 0); // the counter users watch
        Assert.Equal(Enumerable.Range(1, config.Training.Rounds), status.History.Select(h => h.Round));

        // The reference: the same config, uninterrupted, in a cluster of its own.
        var referenceDirectory = TestConfigs.TempDirectory();
        await using (var embedded = await EmbeddedCluster.StartAsync(referenceDirectory, cpuDevices: trainers))
            await ClusterHarness.RunToEndAsync(embedded, config);
        var expected = (await new CheckpointStore(new LocalDirectoryStateStore(referenceDirectory)).ReadAsync(runId, config.Training.Rounds))!.Value;
        var actual = (await new CheckpointStore(store).ReadAsync(runId, config.Training.Rounds))!.Value;
        foreach (var (e, a) in expected.Policy.Tensors.Zip(actual.Policy.Tensors))
        {
            Assert.Equal(e.Name, a.Name);
            Assert.Equal(e.Values, a.Values); // bit-identical weights and optimizer moments
        }
    }

    private static GrainId GrainIdOf<T>(string key) => new(typeof(T).FullName!, key);

    /// <summary>Activates coordinators (a status call starts nothing) until one lands on <paramref name="silo"/>.</summary>
    private static async Task<string> FirstRunIdOnSilo(InProcessCluster cluster, Runtime.SiloRuntime silo, string prefix)
    {
        for (int i = 0; i < 64; i++)
        {
            string runId = $"{prefix}-{i}";
            await cluster.Client.GetGrain<ICoordinatorGrain>(runId).GetStatusAsync();
            if (silo.HostsActivation(GrainIdOf<ICoordinatorGrain>(runId))) return runId;
        }
        throw new InvalidOperationException("no run id's coordinator landed on the first silo: " + string.Join(",", cluster.Silos.Select(s => s.ActivationCount)));
    }

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
        string directory = TestConfigs.TempDirectory(), referenceDirectory = TestConfigs.TempDirectory();
        await using (var embedded = await EmbeddedCluster.StartAsync(referenceDirectory, cpuDevices: 2))
            await ClusterHarness.RunToEndAsync(embedded, config);

        await using var cluster = await EmbeddedCluster.StartAsync(directory, cpuDevices: 2);
        var coordinator = cluster.Client.GetGrain<ICoordinatorGrain>(config.RunId);
        await coordinator.StartAsync(config);
        using (var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1)))
            while ((await coordinator.GetStatusAsync()).Round < 1) await Task.Delay(10, cts.Token);
        await cluster.Client.GetGrain<ITrainerGrain>($"{config.RunId}/trainer-1").ReleaseAsync();

        using var wait = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var status = await RunWatcher.WaitAsync(coordinator, poll: TimeSpan.FromMilliseconds(50), ct: wait.Token);
        Assert.True(status.State == RunState.Completed, $"{status.State}: {status.Error} ({status.Phase})");
        Assert.True(status.Restarts >= 1, "the round after the replica was lost must have been restarted");
        var expected = (await new CheckpointStore(new LocalDirectoryStateStore(referenceDirectory)).ReadAsync(config.RunId, config.Training.Rounds))!.Value;
        var actual = (await new CheckpointStore(cluster.Store).ReadAsync(config.RunId, config.Training.Rounds))!.Value;
        foreach (var (e, a) in expected.Policy.Tensors.Zip(actual.Policy.Tensors)) Assert.Equal(e.Values, a.Values);
    }
}
