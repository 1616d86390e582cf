using AlignCluster.Runtime.Protos;

namespace AlignCluster.Runtime.Transport;

/// <summary>
/// Dispatches arriving envelopes by kind to the part of the silo that serves them: grain requests to the runtime,
/// PING and MEMBERSHIP to membership. A kind with no route yet (the silo is still starting) gets UNAVAILABLE.
/// </summary>
public sealed class EnvelopeRouter : IEnvelopeHandler
{
    private volatile Dictionary<EnvelopeKind, IEnvelopeHandler> _routes = [];

    /// <summary>Routes <paramref name="kind"/> to <paramref name="handler"/> (replacing any previous route).</summary>
    public void Route(EnvelopeKind kind, IEnvelopeHandler handler)
    {
        lock (this) _routes = new Dictionary<EnvelopeKind, IEnvelopeHandler>(_routes) { [kind] = handler };
    }

    public ValueTask<Envelope?> HandleAsync(Envelope request, CancellationToken cancellationToken)
    {
        if (_routes.TryGetValue(request.Kind, out var handler)) return handler.HandleAsync(request, cancellationToken);
        if (request.Kind == EnvelopeKind.OneWay) return ValueTask.FromResult<Envelope?>(null);
        return ValueTask.FromResult<Envelope?>(Envelopes.Failure(request, GrpcStatus.Unavailable, $"this silo does not serve {request.Kind} messages (yet)"));
    }
}
