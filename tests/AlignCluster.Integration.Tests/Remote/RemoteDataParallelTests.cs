using AlignCluster.Client.Cluster;
using AlignCluster.Contracts;
using AlignCluster.Grains.Configuration;
using AlignCluster.Integration.Tests.Cluster;

namespace AlignCluster.Integration.Tests.Remote;

/// <summary>
/// Data-parallel trainers across processes: `train --cluster` with training.trainers: 2 on two silo processes that
/// declare one CPU device each, so the replicas sit in different processes and meet through the rendezvous store and
/// Gloo
/// over loopback. The reference is the same config with one trainer on the embedded cluster in this process.
/// </summary>
[Collection(RemoteCollection.Name)]
public sealed class RemoteDataParallelTests(TwoLocalSilos silos) : IClassFixture<TwoLocalSilos>
{
    [Fact]
    public async Task Two_trainers_on_two_silo_processes_train_like_one_trainer_in_process()
    {
        var tiny = TestConfigs.Tiny("remote-dp", rounds: 2) with { ReusePreparation = false };
        var twoTrainers = tiny with { Training = tiny.Training with { Trainers = 2 } };
        string dir = TestConfigs.TempDirectory();
        string config = Path.Combine(dir, "run.yaml");
        File.WriteAllText(config, RunConfigLoader.ToYaml(twoTrainers));

        var (code, output, err) = silos.Cli("train", "--cluster", string.Join(",", silos.Gateways), "--config", config);
        Assert.True(code == 0, $"train --cluster with two trainers failed ({code}): {err}\n{output}");

        await using var remote = await silos.ConnectAsync();
        var actual = await remote.Client.GetGrain<ICoordinatorGrain>(twoTrainers.RunId).GetStatusAsync();
        Assert.Equal(RunState.Completed, actual.State);

        await using var embedded = await EmbeddedCluster.StartAsync(TestConfigs.TempDirectory());
        var expected = await ClusterHarness.RunToEndAsync(embedded, tiny);

        // The toy policy samples row by row, so both runs see the same candidates: every step agrees up to rounding.
        Assert.Equal(expected.History.Length, actual.History.Length);
        foreach (var (e, a) in expected.History.Zip(actual.History))
        {
            Assert.Equal(e.Steps.Length, a.Steps.Length);
            foreach (var (s, t) in e.Steps.Zip(a.Steps))
            {
                Assert.Equal(s.Loss, t.Loss, 1e-6);
                Assert.Equal(s.RewardsMargins, t.RewardsMargins, 1e-6);
            }
            Assert.Equal(e.Eval!.OracleReward, a.Eval!.OracleReward, 1e-9);
        }
    }
}
