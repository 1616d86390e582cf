using AlignCluster.Interfaces;

namespace AlignCluster.Client.Cluster;

/// <summary>Polls a coordinator until its run stops (completed, failed, cancelled or paused), reporting each new status.</summary>
public static class RunWatcher
{
    public static bool IsFinished(RunState state) => state is RunState.Completed or RunState.Failed or RunState.Cancelled or RunState.Paused;

    public static async Task<RunStatus> WaitAsync(ICoordinatorGrain coordinator, Action<RunStatus>? onStatus = null,
        TimeSpan? poll = null, CancellationToken ct = default)
    {
        while (true)
        {
            var status = await coordinator.GetStatusAsync();
            onStatus?.Invoke(status);
            if (IsFinished(status.State)) return status;
            await Task.Delay(poll ?? TimeSpan.FromMilliseconds(200), ct);
        }
    }
}
