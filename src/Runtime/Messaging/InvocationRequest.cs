namespace AlignCluster.Runtime.Messaging;

/// <summary>
/// One grain call as it crosses the seam between the runtime and a transport.
/// </summary>
/// <remarks>
/// <para><see cref="Arguments"/> holds one buffer per interface-method parameter, in order, leaving out
/// <see cref="CancellationToken"/> parameters (cancellation travels through the transport instead). A
/// <c>byte[]</c> or <c>ReadOnlyMemory&lt;byte&gt;</c> parameter is its raw bytes; any other parameter is UTF-8 JSON of
/// an allowlisted type. Transports carry every buffer as opaque bytes (protobuf <c>bytes</c>, never base64).</para>
/// <para><see cref="Headers"/> carries W3C <c>traceparent</c>/<c>tracestate</c> and runtime routing headers
/// (prefix <c>ac-</c>); transports must carry all of them unchanged.</para>
/// <para><see cref="DeadlineUtc"/> is an absolute time on the caller's clock; a network transport sends the remaining
/// time (like grpc-timeout) and the receiver turns it back into a deadline on its own clock.</para>
/// </remarks>
public sealed record InvocationRequest
{
    /// <summary>Unique per caller process; the response carries the same id.</summary>
    public required long CorrelationId { get; init; }

    /// <summary>The grain being called.</summary>
    public required GrainId Target { get; init; }

    /// <summary>Full name of the grain interface declaring the method (e.g. "AlignCluster.Runtime.IRemindable").</summary>
    public required string Interface { get; init; }

    /// <summary>The method name. Grain interfaces have no overloads, so the name identifies the method.</summary>
    public required string Method { get; init; }

    /// <summary>One serialized buffer per non-CancellationToken parameter.</summary>
    public required ReadOnlyMemory<byte>[] Arguments { get; init; }

    /// <summary>Call headers (traceparent, tracestate, ac-* routing).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = EmptyHeaders;

    /// <summary>When the caller stops waiting; null = no deadline.</summary>
    public DateTime? DeadlineUtc { get; init; }

    internal static readonly IReadOnlyDictionary<string, string> EmptyHeaders = new Dictionary<string, string>();
}

/// <summary>Outcome class of an <see cref="InvocationResponse"/>.</summary>
public enum InvocationStatus
{
    /// <summary>The method returned; <see cref="InvocationResponse.Result"/> holds its serialized result (empty for void).</summary>
    Ok = 0,
    /// <summary>The method (or the runtime on its behalf) threw; ErrorType/ErrorMessage describe it.</summary>
    Error = 1,
    /// <summary>This silo will not serve the call (not hosting the grain, shutting down, no free device); the caller
    /// refreshes its view and retries. ErrorType holds one of <see cref="RejectionReasons"/>.</summary>
    Rejected = 2,
}

/// <summary>Values of <see cref="InvocationResponse.ErrorType"/> for <see cref="InvocationStatus.Rejected"/>.</summary>
public static class RejectionReasons
{
    public const string NotHere = "NotHere";
    public const string ShuttingDown = "ShuttingDown";
    public const string NoFreeDevice = "NoFreeDevice";
    public const string HopLimit = "HopLimit";
}

/// <summary>The answer to an <see cref="InvocationRequest"/>.</summary>
public sealed record InvocationResponse
{
    /// <summary>The request's correlation id.</summary>
    public required long CorrelationId { get; init; }

    public required InvocationStatus Status { get; init; }

    /// <summary>Serialized result (raw bytes for byte[]/ReadOnlyMemory&lt;byte&gt;, else UTF-8 JSON); empty for Task/ValueTask.</summary>
    public ReadOnlyMemory<byte> Result { get; init; }

    /// <summary>Full name of the exception type (Error) or a rejection reason (Rejected).</summary>
    public string? ErrorType { get; init; }

    /// <summary>Human-readable error text.</summary>
    public string? ErrorMessage { get; init; }

    /// <summary>The silo that hosts the activation that served the call (callers cache it); null if unknown.</summary>
    public SiloAddress? ActivationSilo { get; init; }

    public static InvocationResponse Ok(long correlationId, ReadOnlyMemory<byte> result, SiloAddress? activationSilo) =>
        new() { CorrelationId = correlationId, Status = InvocationStatus.Ok, Result = result, ActivationSilo = activationSilo };

    public static InvocationResponse Error(long correlationId, string errorType, string message) =>
        new() { CorrelationId = correlationId, Status = InvocationStatus.Error, ErrorType = errorType, ErrorMessage = message };

    public static InvocationResponse Rejected(long correlationId, string reason, string message) =>
        new() { CorrelationId = correlationId, Status = InvocationStatus.Rejected, ErrorType = reason, ErrorMessage = message };
}
