using AlignCluster.Client.Cluster;
using AlignCluster.Contracts;
using AlignCluster.Grains.Checkpoints;
using AlignCluster.Grains.Coordinator;

namespace AlignCluster.Integration.Tests.Cluster;

/// <summary>
/// Crash mid-run and resume: the process "dies" (the in-process silo is killed: no deactivation, nothing persisted),
/// a new cluster starts on the same state directory, the run is resumed as `train --resume` does (a call to the
/// coordinator, which finds its durable state Running), and it finishes with exactly the weights of an uninterrupted
/// run
/// with the same seed.
/// </summary>
public class ResumeTests
{
    /// <param name="trainers">2: data-parallel replicas; the resumed run forms a new group from the checkpoint.</param>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task CrashedRunResumesAndEndsIdenticalToAnUninterruptedRun(int trainers)
    {
        string directory = TestConfigs.TempDirectory();
        var tiny = TestConfigs.Tiny("uninterrupted", rounds: 6); // enough rounds that the crash lands mid-run even on a loaded machine
        var reference = tiny with { Training = tiny.Training with { Trainers = trainers } };
        var crashed = reference with { RunId = "crashed" };

        await using (var cluster = await EmbeddedCluster.StartAsync(directory, cpuDevices: 2))
            await ClusterHarness.RunToEndAsync(cluster, reference);

        // Start the second run and kill the process once round 1 is persisted (so it dies in a later round).
        var first = await EmbeddedCluster.StartAsync(directory, cpuDevices: 2);
        var coordinator = first.Client.GetGrain<ICoordinatorGrain>(crashed.RunId);
        await coordinator.StartAsync(crashed);
        using (var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1)))
            while ((await coordinator.GetStatusAsync()).Round < 1)
                await Task.Delay(10, cts.Token);
        await first.CrashAsync();
        int roundAtCrash = (await new CheckpointStore(first.Store).RoundsAsync(crashed.RunId)).Max();
        Assert.True(roundAtCrash < crashed.Training.Rounds, "the run must still be unfinished when the process dies");
        await Task.Delay(300); // let the abandoned activation's in-flight work notice it is dead

        // A new process on the same directory: `train --resume` starts the run again with its stored config.
        await using var second = await EmbeddedCluster.StartAsync(directory, cpuDevices: 2);
        await second.Client.GetGrain<ICoordinatorGrain>(crashed.RunId).StartAsync(crashed);
        var checkpoints = new CheckpointStore(second.Store);
        using (var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1)))
            while (!(await checkpoints.RoundsAsync(crashed.RunId)).Contains(crashed.Training.Rounds))
                await Task.Delay(100, cts.Token);
        var status = await RunWatcher.WaitAsync(second.Client.GetGrain<ICoordinatorGrain>(crashed.RunId));
        Assert.Equal(RunState.Completed, status.State);
        Assert.Equal(Enumerable.Range(1, crashed.Training.Rounds), status.History.Select(h => h.Round));

        var expected = (await checkpoints.ReadAsync(reference.RunId, reference.Training.Rounds))!.Value;
        var actual = (await checkpoints.ReadAsync(crashed.RunId, crashed.Training.Rounds))!.Value;
        foreach (var (e, a) in expected.Policy.Tensors.Zip(actual.Policy.Tensors))
        {
            Assert.Equal(e.Name, a.Name);
            Assert.Equal(e.Values, a.Values); // bit-identical weights and optimizer moments
        }
    }
}
