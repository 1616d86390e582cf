using AlignCluster.Runtime.Membership;
using AlignCluster.Runtime.Messaging;
using AlignCluster.Runtime.Protos;
using AlignCluster.Runtime.Storage;
using AlignCluster.Runtime.Transport;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AlignCluster.Runtime.Hosting;

/// <summary>
/// One silo as a hosted service: transport server (silo port + gateway), membership (join → Active), the grain
/// runtime, and graceful shutdown (ShuttingDown → deactivate grains and persist their state → Dead → close).
/// If the cluster declares this silo dead, the runtime stops serving and the host exits with code 3.
/// </summary>
/// <param name="createRuntimeOptions">Builds the runtime options (grains, message types, services) given the silo's
/// default store; the host then adds the configured named stores and grain assemblies.</param>
public sealed class SiloHostedService(
    SiloConfig config,
    Func<IStateStore, RuntimeOptions> createRuntimeOptions,
    IHostApplicationLifetime lifetime,
    ILogger<SiloHostedService> log,
    Func<IReadOnlyList<DeviceInfo>>? deviceDetector = null) : IHostedService
{
    /// <summary>Process exit code when the cluster declared this silo dead.</summary>
    public const int DeclaredDeadExitCode = 3;

    private TransportServer? _server;
    private TransportClient? _client;
    private MembershipService? _membership;
    private bool _declaredDead;

    /// <summary>This silo's identity (after start).</summary>
    public SiloAddress? Address { get; private set; }

    /// <summary>This silo's membership (after start).</summary>
    public IMembershipView? Membership => _membership;

    /// <summary>The grain runtime (after start): its GrainFactory serves code running in the silo.</summary>
    public SiloRuntime? Runtime { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        config.Validate();
        var key = new ClusterKey(config.Cluster.Key!);
        var defaultStore = StateStoreFactory.Create(config.Storage.Default);
        var runtimeOptions = createRuntimeOptions(defaultStore);
        runtimeOptions.AddStateStore("Default", defaultStore);
        foreach (var (name, spec) in config.Storage.Named) runtimeOptions.AddStateStore(name, StateStoreFactory.Create(spec));
        var membershipStore = string.IsNullOrWhiteSpace(config.Storage.Membership) ? defaultStore : StateStoreFactory.Create(config.Storage.Membership);
        GrainAssemblyLoader.Register(runtimeOptions, config.GrainAssemblies, config.GrainClasses);
        var devices = DeviceDetection.Resolve(config.Devices, deviceDetector, config.CpuDevices);

        var router = new EnvelopeRouter();
        _server = new TransportServer(new TransportServerOptions
        {
            Host = config.Network.Host, Port = config.Network.Port, ClusterKey = key,
            GatewayPort = config.Network.GatewayPort > 0 ? config.Network.GatewayPort : null,
        }, router);
        await _server.StartAsync(cancellationToken).ConfigureAwait(false);
        Address = SiloAddress.New(config.AdvertisedHost, _server.Port);

        var metadata = new Dictionary<string, string>(config.Metadata)
        {
            ["gateway"] = $"{config.AdvertisedHost}:{_server.GatewayPort}",
            ["hostname"] = Environment.MachineName,
            ["pid"] = Environment.ProcessId.ToString(),
        };
        _client = new TransportClient(key);
        _membership = new MembershipService(Address, new MembershipTable(membershipStore, config.Cluster.Id), _client,
            config.Membership, devices, metadata, log);
        _membership.DeclaredDead += OnDeclaredDead;
        router.Route(EnvelopeKind.Ping, _membership.PingHandler);
        router.Route(EnvelopeKind.Membership, new MembershipGateway(_membership));
        await _membership.JoinAsync(cancellationToken).ConfigureAwait(false);

        var transport = new GrpcSiloTransport(_client);
        router.Route(EnvelopeKind.Request, transport);
        Runtime = new SiloRuntime(Address, runtimeOptions, transport, _membership);
        await Runtime.StartAsync(cancellationToken).ConfigureAwait(false);
        await _membership.BecomeActiveAsync(cancellationToken).ConfigureAwait(false);
        log.LogInformation("silo {Address} active: devices [{Devices}], gateway {Gateway}, storage {Store}",
            Address, string.Join(", ", devices.Select(d => d.Id)), metadata["gateway"], defaultStore.Name);
        // One machine-readable line for scripts and tests that wait for readiness.
        Console.Out.WriteLine($"SILO READY {Address} gateway={metadata["gateway"]} pid={Environment.ProcessId}");
        Console.Out.Flush();
    }

    private void OnDeclaredDead(string reason)
    {
        _declaredDead = true;
        Environment.ExitCode = DeclaredDeadExitCode;
        log.LogCritical("{Reason}; stopping", reason);
        lifetime.StopApplication();
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (_membership is not null && Runtime is not null && !_declaredDead)
            {
                await _membership.BeginLeaveAsync(cancellationToken).ConfigureAwait(false);
                await Runtime.StopAsync(cancellationToken).ConfigureAwait(false);   // deactivates grains, writes their state
                await _membership.LeaveAsync(cancellationToken).ConfigureAwait(false);
                log.LogInformation("silo {Address} left the cluster gracefully", Address);
            }
        }
        finally
        {
            if (_membership is not null) await _membership.DisposeAsync().ConfigureAwait(false);
            if (_server is not null) await _server.DisposeAsync().ConfigureAwait(false);
            if (_client is not null) await _client.DisposeAsync().ConfigureAwait(false);
        }
    }
}
