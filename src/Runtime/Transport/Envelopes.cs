using AlignCluster.Runtime.Protos;

namespace AlignCluster.Runtime.Transport;

/// <summary>Small constructors for response envelopes.</summary>
public static class Envelopes
{
    public static Envelope Success(Envelope request) =>
        new() { CorrelationId = request.CorrelationId, Kind = EnvelopeKind.Response, CallId = request.CallId };

    public static Envelope Failure(Envelope request, int grpcStatus, string message, string exceptionType = "") => new()
    {
        CorrelationId = request.CorrelationId,
        Kind = EnvelopeKind.Response,
        CallId = request.CallId,
        Error = new CallError { Code = grpcStatus, Message = message, ExceptionType = exceptionType },
    };
}
