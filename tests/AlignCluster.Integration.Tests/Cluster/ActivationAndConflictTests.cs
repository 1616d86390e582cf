using AlignCluster.Client.Cluster;
using AlignCluster.Contracts;
using AlignCluster.Grains.Coordinator;
using AlignCluster.Grains.Hosting;
using Orleans.Runtime;
using Orleans.Storage;
using Orleans.TestingHost;

namespace AlignCluster.Integration.Tests.Cluster;

/// <summary>What Orleans guarantees and our grains rely on: one activation per grain, and no silent lost
/// update.</summary>
public class ActivationAndConflictTests
{
    /// <summary>
    /// Many first calls to one coordinator at once, through the gateways of two silos: they all reach one activation
    /// (counted by Orleans' management grain across the cluster), so a run never has two drivers.
    /// </summary>
    [Fact]
    public async Task ConcurrentFirstCallsThroughTwoSilosReachOneActivation()
    {
        string directory = TestConfigs.TempDirectory();
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) => silo.AddAlignCluster(directory, ["cpu:0"]));
        await using var cluster = builder.Build();
        await cluster.DeployAsync();

        var calls = Enumerable
            .Range(0, 16)
            .Select(_ => cluster.Client.GetGrain<ICoordinatorGrain>("concurrent").GetStatusAsync());
        var statuses = await Task.WhenAll(calls);
        Assert.All(statuses, s => Assert.Equal("concurrent", s.RunId));

        var stats = await cluster.Client.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics();
        var coordinators = stats
            .Where(s => s.GrainType.Contains(nameof(CoordinatorGrain), StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(coordinators); // the statistics do list activations (so the count below means something)
        Assert.Single(coordinators, s => s.GrainId.Key.ToString() == "concurrent");
    }

    /// <summary>
    /// Two processes (here: two clusters) on one state directory hold the same shard: the one whose view of the state
    /// is stale loses the write with Orleans' InconsistentStateException instead of overwriting the other's change.
    /// </summary>
    [Fact]
    public async Task AStaleWriterGetsAnEtagConflictInsteadOfOverwriting()
    {
        string directory = TestConfigs.TempDirectory();
        await using var a = await EmbeddedCluster.StartAsync(directory, autoResume: false, cpuDevices: 1);
        await using var b = await EmbeddedCluster.StartAsync(directory, autoResume: false, cpuDevices: 1);
        PromptGroup Group(string id) =>
            new(id, [1, 2], [new Candidate("c0", [3], 1.0), new Candidate("c1", [4], 0.0)], 0);
        var shardA = a.Client.GetGrain<IPromptShardGrain>("etag/shard-0");
        var shardB = b.Client.GetGrain<IPromptShardGrain>("etag/shard-0");

        await shardA.LoadSliceAsync(new ShardSlice("etag", [Group("p1")]));
        Assert.Equal(1, (await shardB.ReportAsync()).Prompts); // B activates and reads A's write
        await shardA.LoadSliceAsync(new ShardSlice("etag", [Group("p1"), Group("p2")])); // A writes again: B is stale

        var conflict = await Assert.ThrowsAsync<InconsistentStateException>(() =>
            shardB.LoadSliceAsync(new ShardSlice("etag", [Group("p3")]))
        );
        Assert.Contains("lost a race", conflict.Message);
        Assert.Equal(2, (await shardA.ReportAsync()).Prompts); // A's change stands
    }
}
