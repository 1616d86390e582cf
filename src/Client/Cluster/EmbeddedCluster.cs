using System.Net;
using System.Net.Sockets;
using AlignCluster.Grains.Hosting;
using AlignCluster.Grains.LiveView;
using AlignCluster.Hosting.Checkpoints;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace AlignCluster.Client.Cluster;

/// <summary>
/// The embedded default: one Orleans silo in this process (localhost clustering, bound to 127.0.0.1 on free ports),
/// grain state and checkpoints in a local directory (atomic writes), and the host's own <see cref="IClusterClient"/>.
/// What `demo`, `train`, `status`, `eval` and `export` use unless `--cluster` names running silos.
/// </summary>
public sealed class EmbeddedCluster : IAsyncDisposable
{
    private readonly IHost _host;
    private bool _stopped;

    private EmbeddedCluster(IHost host, string directory)
    {
        _host = host;
        StateDirectory = directory;
        Client = host.Services.GetRequiredService<IClusterClient>();
        Store = host.Services.GetRequiredService<ICheckpointStorage>();
        Runs = new RunIndex(RunIndex.StorageOf(directory));
    }

    public IClusterClient Client { get; }

    /// <summary>The live view's base URL (the run page is at /run, the dashboard at /dashboard/); null when
    /// off.</summary>
    public Uri? LiveViewUrl { get; private init; }
    public string StateDirectory { get; }

    /// <summary>The checkpoint store the silo writes to.</summary>
    public ICheckpointStorage Store { get; }

    /// <summary>The runs this state directory knows.</summary>
    public RunIndex Runs { get; }

    /// <summary>Starts the silo over <paramref name="stateDirectory"/> (created if missing; must be
    /// writable).</summary>
    /// <param name="autoResume">Let coordinators continue interrupted runs when they activate (off for read-only
    /// tools).</param>
    /// <param name="cpuDevices">CPU "devices" the silo declares: trainers are device-pinned, one per device, so this is
    /// how many runs can train at once (default: one per core).</param>
    /// <param name="liveView">Serve the live view (Orleans Dashboard + run page) from this silo; off when null.</param>
    public static async Task<EmbeddedCluster> StartAsync(
        string stateDirectory,
        bool autoResume = true,
        int? cpuDevices = null,
        LiveViewOptions? liveView = null
    )
    {
        var directory = Path.GetFullPath(stateDirectory);
        EnsureWritable(directory);
        int devices = Math.Max(1, cpuDevices ?? Environment.ProcessorCount);
        TorchThreads.ShareAmong(devices);
        var builder = LiveViewHost.CreateBuilder(liveView, quiet: true);
        var (siloPort, gatewayPort) = (FreePort(), FreePort());
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(
                siloPort,
                gatewayPort,
                serviceId: "aligncluster",
                clusterId: $"embedded-{Guid.NewGuid():N}"
            );
            silo.Configure<EndpointOptions>(o => o.AdvertisedIPAddress = IPAddress.Loopback);
            silo.AddAlignCluster(
                directory,
                [.. Enumerable.Range(0, devices).Select(i => $"cpu:{i}")],
                new CoordinatorOptions(autoResume)
            );
            silo.AddLiveView(liveView);
        });
        var host = builder.BuildWithLiveView();
        try
        {
            await host.StartAsync();
        }
        catch (IOException e) when (liveView is not null) // Kestrel: the port is taken or the address is not local
        {
            host.Dispose();
            throw new ClientException(
                $"live view: cannot listen on {liveView.Address}:{liveView.Port}: {e.Message}",
                exitCode: 3,
                e
            );
        }
        return new EmbeddedCluster(host, directory) { LiveViewUrl = LiveViewHost.UrlOf(host) };
    }

    /// <summary>A TCP port free on loopback right now (the silo binds it a moment later).</summary>
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// For commands that read an existing run (status, eval, export, train --resume): a state directory that does not
    /// exist is refused before anything starts, so a mistyped --state is named and never created.
    /// </summary>
    /// <param name="what">What is missing, e.g. "run 'r1' does not exist" (default: the directory alone).</param>
    public static void RequireExisting(string stateDirectory, string? what = null)
    {
        if (Directory.Exists(stateDirectory))
            return;
        string missing = $"no cluster state in '{Path.GetFullPath(stateDirectory)}' (pass --state DIR)";
        throw new ClientException(what is null ? missing : $"{what}: {missing}");
    }

    /// <summary>Checks up front that the state directory can be written, so a bad path fails before any work
    /// starts.</summary>
    public static void EnsureWritable(string directory)
    {
        try
        {
            Directory.CreateDirectory(directory);
            string probe = Path.Combine(directory, $".write-probe-{Environment.ProcessId}");
            File.WriteAllText(probe, "ok");
            File.Delete(probe);
        }
        catch (Exception e)
            when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new ClientException($"state directory '{directory}' is not usable: {e.Message}", exitCode: 3, e);
        }
    }

    /// <summary>
    /// Simulates a crash of the process: the silo stops at once without a graceful shutdown (no state is written on
    /// deactivation in any case; what a grain did not persist is lost).
    /// </summary>
    public async Task CrashAsync()
    {
        _stopped = true;
        await _host.StopAsync(new CancellationToken(canceled: true));
        _host.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopped)
            return;
        _stopped = true;
        await _host.StopAsync();
        _host.Dispose();
    }
}
