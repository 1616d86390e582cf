using AlignCluster.Runtime.Messaging;
using AlignCluster.Runtime.Protos;

namespace AlignCluster.Runtime.Transport;

/// <summary>
/// The runtime's <see cref="ISiloTransport"/> over gRPC-framed HTTP/2: outgoing calls ride the one duplex stream per
/// peer of a <see cref="TransportClient"/>; incoming REQUEST envelopes (routed here by <see cref="EnvelopeRouter"/>)
/// go to the registered <see cref="IInvocationHandler"/>. A request addressed to another generation of this
/// endpoint is rejected NotHere: a restarted silo never answers for its dead predecessor.
/// </summary>
public sealed class GrpcSiloTransport(TransportClient client) : ISiloTransport, IEnvelopeHandler
{
    private volatile IInvocationHandler? _handler;
    private SiloAddress? _local;

    public async ValueTask<InvocationResponse> SendAsync(SiloAddress target, InvocationRequest request, CancellationToken cancellationToken)
    {
        var envelope = InvocationCodec.ToEnvelope(request, target);
        Envelope response;
        try
        {
            response = await client.SendAsync($"{target.Host}:{target.Port}", envelope, cancellationToken).ConfigureAwait(false);
        }
        catch (PeerUnavailableException e)
        {
            throw new SiloUnavailableException(target, e.Message, e, e.RequestSent);
        }
        catch (ClusterAuthenticationException e)
        {
            throw new SiloUnavailableException(target, e.Message, e, requestSent: false);
        }
        return InvocationCodec.ToResponse(response, request.CorrelationId);
    }

    public void RegisterHandler(SiloAddress localSilo, IInvocationHandler handler)
    {
        if (_handler is not null) throw new InvalidOperationException($"a handler for silo {_local} is already registered");
        _local = localSilo;
        _handler = handler;
    }

    async ValueTask<Envelope?> IEnvelopeHandler.HandleAsync(Envelope request, CancellationToken cancellationToken)
    {
        var handler = _handler;
        if (handler is null || _local is null)
            return InvocationCodec.ToEnvelope(InvocationResponse.Rejected(request.CallId, RejectionReasons.ShuttingDown, "the silo is not serving calls yet"), request);
        if (request.TargetSilo != _local.ToString())
            return InvocationCodec.ToEnvelope(InvocationResponse.Rejected(request.CallId, RejectionReasons.NotHere,
                $"the call was addressed to silo {request.TargetSilo}, but this is {_local}"), request);
        InvocationRequest invocation;
        try { invocation = InvocationCodec.ToRequest(request); }
        catch (FormatException e) { return Envelopes.Failure(request, GrpcStatus.InvalidArgument, e.Message); }
        var response = await handler.HandleAsync(invocation, cancellationToken).ConfigureAwait(false);
        return InvocationCodec.ToEnvelope(response, request);
    }
}
