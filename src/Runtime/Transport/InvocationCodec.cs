using AlignCluster.Runtime.Messaging;
using AlignCluster.Runtime.Protos;
using Google.Protobuf;
using ProtoStatus = AlignCluster.Runtime.Protos.InvocationStatus;

namespace AlignCluster.Runtime.Transport;

/// <summary>
/// Maps the runtime's <see cref="InvocationRequest"/>/<see cref="InvocationResponse"/> to envelopes and back.
/// Buffers are wrapped, not copied, on the way out; deadlines travel as time left (clocks need not agree).
/// </summary>
public static class InvocationCodec
{
    public static Envelope ToEnvelope(InvocationRequest request, SiloAddress target)
    {
        var envelope = new Envelope
        {
            Kind = EnvelopeKind.Request,
            CallId = request.CorrelationId,
            TargetGrain = request.Target.ToString(),
            InterfaceName = request.Interface,
            MethodName = request.Method,
            TargetSilo = target.ToString(),
        };
        foreach (var argument in request.Arguments) envelope.Arguments.Add(UnsafeByteOperations.UnsafeWrap(argument));
        foreach (var (name, value) in request.Headers) envelope.Headers[name] = value;
        if (request.DeadlineUtc is { } deadline)
            envelope.TimeoutMs = Math.Max(1, (long)Math.Ceiling((deadline - DateTime.UtcNow).TotalMilliseconds));
        return envelope;
    }

    /// <exception cref="FormatException">The target grain id is malformed.</exception>
    public static InvocationRequest ToRequest(Envelope envelope)
    {
        var arguments = new ReadOnlyMemory<byte>[envelope.Arguments.Count];
        for (int i = 0; i < arguments.Length; i++) arguments[i] = envelope.Arguments[i].Memory;
        return new InvocationRequest
        {
            CorrelationId = envelope.CallId,
            Target = GrainId.Parse(envelope.TargetGrain),
            Interface = envelope.InterfaceName,
            Method = envelope.MethodName,
            Arguments = arguments,
            Headers = envelope.Headers.Count == 0 ? new Dictionary<string, string>() : new Dictionary<string, string>(envelope.Headers),
            DeadlineUtc = envelope.TimeoutMs > 0 ? DateTime.UtcNow.AddMilliseconds(envelope.TimeoutMs) : null,
        };
    }

    public static Envelope ToEnvelope(InvocationResponse response, Envelope request) => new()
    {
        CorrelationId = request.CorrelationId,
        CallId = response.CorrelationId,
        Kind = EnvelopeKind.Response,
        Status = (ProtoStatus)(int)response.Status,
        Payload = UnsafeByteOperations.UnsafeWrap(response.Result),
        ErrorType = response.ErrorType ?? "",
        Error = response.ErrorMessage is null ? null : new CallError { Code = GrpcStatus.Unknown, Message = response.ErrorMessage },
        ActivationSilo = response.ActivationSilo?.ToString() ?? "",
    };

    /// <summary>The runtime's response; a transport-level error (no handler, bad request) becomes an Error response.</summary>
    public static InvocationResponse ToResponse(Envelope envelope, long callId)
    {
        if (envelope.Status == ProtoStatus.InvocationOk && envelope.Error is { } transportError)
            return InvocationResponse.Error(callId, transportError.ExceptionType is { Length: > 0 } t ? t : "AlignCluster.Runtime.TransportError",
                $"grpc-status {transportError.Code}: {transportError.Message}");
        return new InvocationResponse
        {
            CorrelationId = callId,
            Status = (Messaging.InvocationStatus)(int)envelope.Status,
            Result = envelope.Payload.Memory,
            ErrorType = envelope.ErrorType is { Length: > 0 } type ? type : null,
            ErrorMessage = envelope.Error?.Message,
            ActivationSilo = envelope.ActivationSilo is { Length: > 0 } silo ? SiloAddress.Parse(silo) : null,
        };
    }
}
