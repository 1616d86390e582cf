using AlignCluster.Runtime.Messaging;
using AlignCluster.Runtime.Invocation;

namespace AlignCluster.Runtime;

/// <summary>
/// A client outside the silos: creates grain references whose calls go through <paramref name="transport"/> to the
/// silo owning the grain in <paramref name="membership"/> (any silo forwards to the right one).
/// </summary>
public sealed class ClusterClient(RuntimeOptions options, ISiloTransport transport, IMembershipView membership) : IClusterClient
{
    private readonly GrainCallRouter _router = new(options, transport, membership, localSilo: null);

    public IServiceProvider ServiceProvider { get; } = options.Services ?? EmptyServiceProvider.Instance;

    public TGrainInterface GetGrain<TGrainInterface>(string primaryKey) where TGrainInterface : IGrainWithStringKey =>
        _router.GetGrain<TGrainInterface>(primaryKey);

    public TGrainInterface GetGrain<TGrainInterface>(Guid primaryKey) where TGrainInterface : IGrainWithGuidKey =>
        _router.GetGrain<TGrainInterface>(primaryKey);

    public TGrainInterface GetGrain<TGrainInterface>(long primaryKey) where TGrainInterface : IGrainWithIntegerKey =>
        _router.GetGrain<TGrainInterface>(primaryKey);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

internal sealed class EmptyServiceProvider : IServiceProvider
{
    public static readonly EmptyServiceProvider Instance = new();
    public object? GetService(Type serviceType) => null;
}
