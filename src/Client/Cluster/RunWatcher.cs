using AlignCluster.Contracts;

namespace AlignCluster.Client.Cluster;

/// <summary>Polls a coordinator until its run stops (completed, failed, cancelled or paused), reporting each new
/// status.</summary>
public static class RunWatcher
{
    /// <summary>How long a remote client keeps asking after its calls start failing because a silo went away.</summary>
    public static readonly TimeSpan FollowPatience = TimeSpan.FromMinutes(3);

    public static bool IsFinished(RunState state) =>
        state is RunState.Completed or RunState.Failed or RunState.Cancelled or RunState.Paused;

    /// <param name="lost">When set, a status call failing with an exception it accepts (a silo or gateway that went
    /// away) is retried, for up to <see cref="FollowPatience"/> in a row: the run's grains come back on the surviving
    /// silos and the client's other gateways carry the calls. <paramref name="onLost"/> hears of each such
    /// failure.</param>
    public static async Task<RunStatus> WaitAsync(
        ICoordinatorGrain coordinator,
        Action<RunStatus>? onStatus = null,
        TimeSpan? poll = null,
        CancellationToken ct = default,
        Func<Exception, bool>? lost = null,
        Action<Exception>? onLost = null
    )
    {
        DateTime? failingSince = null;
        while (true)
        {
            RunStatus status;
            try
            {
                status = await coordinator.GetStatusAsync();
                failingSince = null;
            }
            catch (Exception e)
                when (lost is not null
                    && lost(e)
                    && DateTime.UtcNow - (failingSince ??= DateTime.UtcNow) < FollowPatience
                )
            {
                onLost?.Invoke(e);
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
                continue;
            }
            onStatus?.Invoke(status);
            if (IsFinished(status.State))
                return status;
            await Task.Delay(poll ?? TimeSpan.FromMilliseconds(200), ct);
        }
    }
}
