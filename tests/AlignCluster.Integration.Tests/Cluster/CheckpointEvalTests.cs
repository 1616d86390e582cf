using AlignCluster.Client.Cluster;
using AlignCluster.Contracts;

namespace AlignCluster.Integration.Tests.Cluster;

/// <summary>`eval` through the coordinator grain: the evaluation trainer's device is given back on every
/// path.</summary>
public class CheckpointEvalTests
{
    [Fact]
    public async Task ARefusedEvaluationFreesTheDeviceOfItsTrainer()
    {
        await using var cluster = await EmbeddedCluster.StartAsync(
            TestConfigs.TempDirectory(),
            autoResume: false,
            cpuDevices: 1
        );
        await ClusterHarness.RunToEndAsync(cluster, TestConfigs.Tiny("eval-refused", rounds: 1));
        var coordinator = cluster.Client.GetGrain<ICoordinatorGrain>("eval-refused");
        var e = await Assert.ThrowsAsync<ArgumentException>(() => coordinator.EvaluateCheckpointAsync(9));
        Assert.Contains("no complete checkpoint for round 9", e.Message);
        // The silo's only device must be free again: the next run's trainer needs it (it was leaked to
        // 'eval-refused/eval').
        await ClusterHarness.RunToEndAsync(cluster, TestConfigs.Tiny("after-refused-eval", rounds: 1));
    }
}
