using AlignCluster.Runtime.Protos;
using AlignCluster.Runtime.Transport;
using Google.Protobuf;

namespace AlignCluster.Runtime.Tests.Net;

/// <summary>Test handler: answers with the payload reversed and the method name echoed; "Fail" throws; "Hang" never answers.</summary>
internal sealed class EchoHandler : IEnvelopeHandler
{
    public int Served;

    public async ValueTask<Envelope?> HandleAsync(Envelope request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Served);
        if (request.MethodName == "Fail") throw new InvalidOperationException("boom from the handler");
        if (request.MethodName == "Hang") await Task.Delay(Timeout.Infinite, cancellationToken);
        var reversed = request.Payload.ToByteArray();
        Array.Reverse(reversed);
        var response = new Envelope
        {
            CorrelationId = request.CorrelationId,
            Kind = EnvelopeKind.Response,
            MethodName = request.MethodName,
            Payload = ByteString.CopyFrom(reversed),
        };
        response.Headers["echo-target"] = request.TargetGrain;
        return response;
    }
}
