namespace AlignCluster.Runtime.Messaging;

/// <summary>
/// Moves <see cref="InvocationRequest"/>s to silos and their responses back. The in-process implementation is
/// <see cref="InProcessTransport"/>; runtime-net implements it over gRPC-framed HTTP/2.
/// </summary>
/// <remarks>
/// Contract: <see cref="SendAsync"/> completes with the target's response, or throws
/// <see cref="SiloUnavailableException"/> when the target cannot be reached or the connection breaks before the
/// response arrives (the request may or may not have run), or <see cref="OperationCanceledException"/> when
/// <paramref name="cancellationToken"/> fires — in which case the transport also tells the target to cancel the
/// token it passed to the handler. Requests to one silo may be in flight concurrently and complete in any order.
/// </remarks>
public interface ISiloTransport
{
    /// <summary>Sends a request to <paramref name="target"/> and awaits its response.</summary>
    ValueTask<InvocationResponse> SendAsync(SiloAddress target, InvocationRequest request, CancellationToken cancellationToken);

    /// <summary>Registers the handler for requests addressed to the local silo (silos only; clients never call it).
    /// Requests arriving before registration are answered Rejected/ShuttingDown.</summary>
    void RegisterHandler(SiloAddress localSilo, IInvocationHandler handler);
}

/// <summary>The local silo's request handler (implemented by the runtime).</summary>
public interface IInvocationHandler
{
    /// <summary>Handles one request. Never throws for application errors: they come back as
    /// <see cref="InvocationStatus.Error"/>. <paramref name="cancellationToken"/> fires when the caller cancels.</summary>
    ValueTask<InvocationResponse> HandleAsync(InvocationRequest request, CancellationToken cancellationToken);
}

/// <summary>A silo could not be reached, or is no longer a cluster member.</summary>
public sealed class SiloUnavailableException(SiloAddress silo, string message, Exception? inner = null)
    : Exception($"Silo {silo} is unavailable: {message}", inner)
{
    public SiloAddress Silo { get; } = silo;
}
