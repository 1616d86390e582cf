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
/// <remarks>
/// A call in flight when its silo dies fails with this exception (it is not retried: it may have run, and the runtime
/// is at-most-once). <see cref="RequestSent"/> false means the request never left the caller — e.g. the silo's
/// port refused the connection — so it did not run and the caller may retry it once membership has re-placed the
/// grain (Orleans leaves that retry to the caller as well).
/// </remarks>
public sealed class SiloUnavailableException(SiloAddress silo, string message, Exception? inner = null, bool requestSent = true)
    : Exception($"Silo {silo} is unavailable: {message}", inner)
{
    /// <summary>Whether the request may have reached the silo (true unless the transport knows it never left).</summary>
    public bool RequestSent { get; } = requestSent;

    public SiloAddress Silo { get; } = silo;
}
