using AlignCluster.Runtime.Messaging;

namespace AlignCluster.Runtime.Testing;

/// <summary>
/// Several silos and a client in one process, sharing an <see cref="InProcessTransport"/>, an
/// <see cref="InProcessMembership"/> and the stores registered in the options (Orleans' TestCluster, in-process).
/// A full restart is a new cluster built on the same stores.
/// </summary>
public sealed class InProcessCluster : IAsyncDisposable
{
    private readonly List<SiloRuntime> _silos = [];
    private int _nextPort = 1;

    public InProcessCluster(RuntimeOptions options)
    {
        Options = options;
        Client = new ClusterClient(options, Transport, Membership);
    }

    public RuntimeOptions Options { get; }
    public InProcessTransport Transport { get; } = new();
    public InProcessMembership Membership { get; } = new();
    public IClusterClient Client { get; }

    /// <summary>Silos started and not stopped or killed.</summary>
    public IReadOnlyList<SiloRuntime> Silos { get { lock (_silos) return [.. _silos]; } }

    /// <summary>Starts a cluster of <paramref name="silos"/> silos (each declaring one CPU device unless
    /// <paramref name="devices"/> says otherwise for silo i).</summary>
    public static async Task<InProcessCluster> StartAsync(RuntimeOptions options, int silos, Func<int, IReadOnlyList<DeviceInfo>>? devices = null)
    {
        var cluster = new InProcessCluster(options);
        for (int i = 0; i < silos; i++) await cluster.StartSiloAsync(devices?.Invoke(i));
        return cluster;
    }

    /// <summary>Starts one more silo and marks it Active.</summary>
    public async Task<SiloRuntime> StartSiloAsync(IReadOnlyList<DeviceInfo>? devices = null)
    {
        int port = Interlocked.Increment(ref _nextPort) - 1;
        var address = new SiloAddress("inproc", port, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000 + port);
        Membership.Upsert(new SiloInfo(address, SiloStatus.Joining, devices ?? [new DeviceInfo("cpu:0", "cpu")]));
        var silo = new SiloRuntime(address, Options, Transport, Membership);
        await silo.StartAsync();
        Membership.SetStatus(address, SiloStatus.Active);
        lock (_silos) _silos.Add(silo);
        return silo;
    }

    /// <summary>Graceful leave: ShuttingDown, deactivate and persist, then Dead.</summary>
    public async Task StopSiloAsync(SiloRuntime silo)
    {
        lock (_silos) _silos.Remove(silo);
        Membership.SetStatus(silo.Address, SiloStatus.ShuttingDown);
        await silo.StopAsync();
        Transport.Unregister(silo.Address);
        Membership.SetStatus(silo.Address, SiloStatus.Dead);
    }

    /// <summary>Crash: the silo vanishes without deactivating anything, then membership declares it dead.</summary>
    public async Task KillSiloAsync(SiloRuntime silo)
    {
        lock (_silos) _silos.Remove(silo);
        Transport.Unregister(silo.Address);
        silo.Kill();
        await Membership.DeclareDeadAsync(silo.Address, "killed by the test");
    }

    /// <summary>Stops every silo gracefully.</summary>
    public async Task StopAsync()
    {
        foreach (var silo in Silos) await StopSiloAsync(silo);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await Client.DisposeAsync();
    }
}
