using AlignCluster.Grains.Hosting;
using AlignCluster.Runtime;
using AlignCluster.Runtime.Messaging;
using AlignCluster.Runtime.Storage;
using AlignCluster.Runtime.Testing;

namespace AlignCluster.Client.Cluster;

/// <summary>
/// The embedded default: one silo and a client in this process, grain state and checkpoints in a local directory
/// (atomic writes). What `demo` and `train` use unless `--cluster` names running silos.
/// </summary>
public sealed class EmbeddedCluster : IAsyncDisposable
{
    private readonly InProcessCluster _cluster;
    private bool _crashed;

    private EmbeddedCluster(InProcessCluster cluster, IStateStore store, string directory)
    {
        _cluster = cluster;
        Store = store;
        StateDirectory = directory;
    }

    public IClusterClient Client => _cluster.Client;
    public IStateStore Store { get; }
    public string StateDirectory { get; }

    /// <summary>Starts the silo over <paramref name="stateDirectory"/> (created if missing; must be writable).</summary>
    /// <param name="autoResume">Let coordinators continue interrupted runs when they activate (off for read-only tools).</param>
    /// <param name="cpuDevices">CPU "devices" the silo declares: trainers are device-pinned, one per device, so this is
    /// how many runs can train at once (default: one per core).</param>
    public static async Task<EmbeddedCluster> StartAsync(string stateDirectory, bool autoResume = true, int? cpuDevices = null)
    {
        var directory = Path.GetFullPath(stateDirectory);
        EnsureWritable(directory);
        var store = new LocalDirectoryStateStore(directory);
        int devices = Math.Max(1, cpuDevices ?? Environment.ProcessorCount);
        TorchThreads.ShareAmong(devices);
        var cluster = await InProcessCluster.StartAsync(ClusterSetup.SiloOptions(store, new CoordinatorOptions(autoResume)), silos: 1,
            _ => Enumerable.Range(0, devices).Select(i => new DeviceInfo($"cpu:{i}", "cpu")).ToList());
        return new EmbeddedCluster(cluster, store, directory);
    }

    /// <summary>
    /// For commands that read an existing run (status, eval, export, train --resume): a state directory that does not
    /// exist is refused before anything starts, so a mistyped --state is named and never created.
    /// </summary>
    /// <param name="what">What is missing, e.g. "run 'r1' does not exist" (default: the directory alone).</param>
    public static void RequireExisting(string stateDirectory, string? what = null)
    {
        if (Directory.Exists(stateDirectory)) return;
        string missing = $"no cluster state in '{Path.GetFullPath(stateDirectory)}' (pass --state DIR)";
        throw new ClientException(what is null ? missing : $"{what}: {missing}");
    }

    /// <summary>Checks up front that the state directory can be written, so a bad path fails before any work starts.</summary>
    public static void EnsureWritable(string directory)
    {
        try
        {
            Directory.CreateDirectory(directory);
            string probe = Path.Combine(directory, $".write-probe-{Environment.ProcessId}");
            File.WriteAllText(probe, "ok");
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new ClientException($"state directory '{directory}' is not usable: {e.Message}", exitCode: 3, e);
        }
    }

    /// <summary>Simulates a crash of the process: the silo stops serving at once, nothing is deactivated or persisted.</summary>
    public async Task CrashAsync()
    {
        _crashed = true;
        foreach (var silo in _cluster.Silos) await _cluster.KillSiloAsync(silo);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_crashed) await _cluster.DisposeAsync();
    }
}
