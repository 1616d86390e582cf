using AlignCluster.Runtime.Messaging;

namespace AlignCluster.Runtime;

/// <summary>
/// The runtime of one silo, independent of the network: activations, turn-based scheduling, grain directory,
/// placement, persistent state, timers, reminders, idle collection. The host (or <see cref="Testing.InProcessCluster"/>)
/// creates it with a transport and a membership view, marks the silo Active in membership after
/// <see cref="StartAsync"/>, and calls <see cref="StopAsync"/> on shutdown.
/// </summary>
public sealed partial class SiloRuntime : IInvocationHandler, IAsyncDisposable
{
    /// <summary>Creates the runtime of the silo <paramref name="address"/>.</summary>
    public SiloRuntime(SiloAddress address, RuntimeOptions options, ISiloTransport transport, IMembershipView membership)
    {
        Address = address;
        Options = options;
        Transport = transport;
        Membership = membership;
        Initialize();
    }

    /// <summary>This silo's identity.</summary>
    public SiloAddress Address { get; }

    internal RuntimeOptions Options { get; }
    internal ISiloTransport Transport { get; }
    internal IMembershipView Membership { get; }

    /// <summary>Grain factory for code running inside this silo (e.g. hosted services).</summary>
    public IGrainFactory GrainFactory => Factory;

    /// <summary>Number of live activations on this silo.</summary>
    public int ActivationCount => Activations.Count;

    /// <summary>Whether <paramref name="grain"/> is active on this silo (tests and tools pick the silo to stop).</summary>
    public bool HostsActivation(GrainId grain) => Activations.ContainsKey(grain);

    /// <summary>Registers the request handler with the transport and starts reminder and idle-collection loops.</summary>
    public partial Task StartAsync(CancellationToken cancellationToken = default);

    /// <summary>Graceful stop: refuses new requests (Rejected/ShuttingDown), deactivates every activation
    /// (OnDeactivateAsync, then changed persistent state is written), removes its directory records.</summary>
    public partial Task StopAsync(CancellationToken cancellationToken = default);

    /// <summary>Simulates a crash: stops serving at once, runs no deactivation, persists nothing.</summary>
    public partial void Kill();

    public async ValueTask DisposeAsync() => await StopAsync();

    /// <summary>Handles one request addressed to this silo (see SiloRuntime.Handling.cs).</summary>
    public partial ValueTask<InvocationResponse> HandleAsync(InvocationRequest request, CancellationToken cancellationToken);
}
