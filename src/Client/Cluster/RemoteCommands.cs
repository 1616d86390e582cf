using AlignCluster.Interfaces;
using AlignCluster.Runtime;
using AlignCluster.Runtime.Messaging;
using AlignCluster.Runtime.Transport;
using Spectre.Console;

namespace AlignCluster.Client.Cluster;

/// <summary>
/// What `train --cluster` and `status --cluster` do against running silos. The run's state (config, rounds,
/// checkpoints) lives in the silos' store, so the client keeps no run index: the coordinator grain is the record.
/// </summary>
public static class RemoteCommands
{
    /// <summary>Starts <paramref name="config"/> on the cluster's coordinator grain; the status right after starting.</summary>
    public static async Task<(ICoordinatorGrain Coordinator, RunStatus Started)> StartRunAsync(RemoteCluster cluster, RunConfig config)
    {
        var coordinator = cluster.Client.GetGrain<ICoordinatorGrain>(config.RunId);
        try
        {
            return (coordinator, await Translate(() => coordinator.StartAsync(config), cluster));
        }
        catch (ArgumentException e)   // the coordinator refused the config (e.g. the run id exists with another config)
        {
            throw new ClientException(e.Message);
        }
    }

    /// <summary>Prints the silos (status, devices, gateway), then the run (or a hint to name one).</summary>
    public static async Task<int> PrintStatusAsync(RemoteCluster cluster, string? runId)
    {
        var silos = cluster.Membership.Silos;
        AnsiConsole.MarkupLine($"Cluster: {cluster.Membership.ActiveSilos.Count} active silo(s) of {silos.Count}, gateway {Markup.Escape(string.Join(",", cluster.Gateways))}");
        var table = new Table().Border(TableBorder.Rounded).AddColumn("silo").AddColumn("status").AddColumn("devices");
        foreach (var silo in silos)
            table.AddRow(Markup.Escape(silo.Address.ToString()), silo.Status.ToString(),
                Markup.Escape(string.Join(", ", silo.Devices.Select(d => d.Id))));
        AnsiConsole.Write(table);
        if (runId is null)
        {
            AnsiConsole.MarkupLine("Runs are kept by the silos: pass --run ID to show one.");
            return 0;
        }
        Report.PrintRun(await GetRunAsync(cluster, runId));
        return 0;
    }

    /// <summary>A run's status (per-round history too) from its coordinator grain; a clear error if none ran.</summary>
    public static async Task<RunStatus> GetRunAsync(RemoteCluster cluster, string runId)
    {
        var status = await Translate(() => cluster.Client.GetGrain<ICoordinatorGrain>(runId).GetStatusAsync(), cluster);
        if (status.State == RunState.Created && status.TotalRounds == 0)   // a coordinator that was never started
            throw new ClientException($"run '{runId}' does not exist on the cluster at {string.Join(",", cluster.Gateways)}");
        return status;
    }

    /// <summary>Turns a silo that went away mid-call into a clear "unusable infrastructure" error (exit 3).</summary>
    public static async Task<T> Translate<T>(Func<Task<T>> call, RemoteCluster cluster)
    {
        try { return await call(); }
        catch (Exception e) when (e is SiloUnavailableException or PeerUnavailableException or ClusterAuthenticationException)
        {
            throw new ClientException($"cluster at {string.Join(",", cluster.Gateways)}: {e.Message}", exitCode: 3, e);
        }
    }
}
