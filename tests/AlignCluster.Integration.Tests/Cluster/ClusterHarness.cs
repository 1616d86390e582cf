using AlignCluster.Client.Cluster;
using AlignCluster.Contracts;

namespace AlignCluster.Integration.Tests.Cluster;

/// <summary>Runs on an embedded cluster in a temp directory, for the end-to-end tests.</summary>
internal static class ClusterHarness
{
    public static async Task<RunStatus> RunToEndAsync(
        EmbeddedCluster cluster,
        RunConfig config,
        TimeSpan? timeout = null
    )
    {
        var coordinator = cluster.Client.GetGrain<ICoordinatorGrain>(config.RunId);
        await coordinator.StartAsync(config);
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        var status = await RunWatcher.WaitAsync(coordinator, poll: TimeSpan.FromMilliseconds(50), ct: cts.Token);
        Assert.True(status.State == RunState.Completed, $"{config.RunId} ended {status.State}: {status.Error}");
        return status;
    }
}
