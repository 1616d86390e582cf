using System.Collections.Concurrent;

namespace AlignCluster.Runtime.Messaging;

/// <summary>
/// A transport for silos and clients in one process: one shared instance is the "network". Requests are handed to
/// the target's handler directly (arguments are already serialized, so caller and callee share no objects).
/// </summary>
public sealed class InProcessTransport : ISiloTransport
{
    private readonly ConcurrentDictionary<SiloAddress, IInvocationHandler> _handlers = new();

    public void RegisterHandler(SiloAddress localSilo, IInvocationHandler handler)
    {
        if (!_handlers.TryAdd(localSilo, handler))
            throw new InvalidOperationException($"A handler for silo {localSilo} is already registered.");
    }

    /// <summary>Removes a silo from the "network": later sends to it throw <see cref="SiloUnavailableException"/>.</summary>
    public void Unregister(SiloAddress silo) => _handlers.TryRemove(silo, out _);

    public ValueTask<InvocationResponse> SendAsync(SiloAddress target, InvocationRequest request, CancellationToken cancellationToken)
    {
        if (!_handlers.TryGetValue(target, out var handler))
            return ValueTask.FromException<InvocationResponse>(new SiloUnavailableException(target, "no such silo in this process.", requestSent: false));
        cancellationToken.ThrowIfCancellationRequested();
        return handler.HandleAsync(request, cancellationToken);
    }
}
