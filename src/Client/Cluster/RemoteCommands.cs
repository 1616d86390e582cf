using AlignCluster.Contracts;

namespace AlignCluster.Client.Cluster;

/// <summary>
/// What `train --cluster` and `status --cluster` do against running silos. The run's state (config, rounds,
/// checkpoints) lives in the silos' storage, so the client keeps no run index: the coordinator grain is the record.
/// </summary>
public static class RemoteCommands
{
    /// <summary>Starts <paramref name="config"/> on the cluster's coordinator grain; the status right after
    /// starting.</summary>
    public static async Task<(ICoordinatorGrain Coordinator, RunStatus Started)> StartRunAsync(
        RemoteCluster cluster,
        RunConfig config
    )
    {
        var coordinator = cluster.Client.GetGrain<ICoordinatorGrain>(config.RunId);
        try
        {
            return (coordinator, await Translate(() => coordinator.StartAsync(config), cluster));
        }
        catch (ArgumentException e) // the coordinator refused the config (e.g. the run id exists with another config)
        {
            throw new ClientException(e.Message);
        }
    }

    /// <summary>
    /// The coordinator of a run the cluster knows; a run id it never started is refused (exit 2) before anything is
    /// asked of it, so nothing is recorded for a mistyped name.
    /// </summary>
    public static async Task<ICoordinatorGrain> ExistingRunAsync(RemoteCluster cluster, string runId)
    {
        var coordinator = cluster.Client.GetGrain<ICoordinatorGrain>(runId);
        var status = await Translate(() => coordinator.GetStatusAsync(), cluster);
        if (status.State == RunState.Created && status.TotalRounds == 0) // a coordinator that was never started
        {
            string at = string.Join(",", cluster.Gateways);
            throw new ClientException($"run '{runId}' does not exist on the cluster at {at}");
        }
        return coordinator;
    }

    /// <summary>
    /// Continues a paused, failed or interrupted run with the config it was started with. The coordinator itself
    /// refuses a run it never started (and records nothing for it); that refusal is bad input (exit 2).
    /// </summary>
    public static async Task<ICoordinatorGrain> ResumeRunAsync(RemoteCluster cluster, string runId)
    {
        var coordinator = cluster.Client.GetGrain<ICoordinatorGrain>(runId);
        try
        {
            await Translate(() => coordinator.ResumeAsync(), cluster);
        }
        catch (ArgumentException e)
        {
            throw new ClientException(e.Message);
        } // the coordinator refused (no such run)
        return coordinator;
    }

    /// <summary>A run's status (per-round history too) from its coordinator grain; a clear error if none ran.</summary>
    public static async Task<RunStatus> GetRunAsync(RemoteCluster cluster, string runId)
    {
        var coordinator = await ExistingRunAsync(cluster, runId);
        return await Translate(() => coordinator.GetStatusAsync(), cluster);
    }

    /// <summary>Turns a silo that went away mid-call into a clear "unusable infrastructure" error (exit 3).</summary>
    public static async Task<T> Translate<T>(Func<Task<T>> call, RemoteCluster cluster)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (RemoteCluster.IsUnavailable(e))
        {
            throw new ClientException($"cluster at {string.Join(",", cluster.Gateways)}: {e.Message}", exitCode: 3, e);
        }
    }
}
