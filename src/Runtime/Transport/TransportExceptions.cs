namespace AlignCluster.Runtime.Transport;

/// <summary>The target silo cannot be reached, refused the connection, or the connection broke mid-call.</summary>
/// <param name="requestSent">False when the request certainly never left this process (the connection could not be
/// opened, or was already broken): it did not run and may be retried. True when it was queued on a stream that then
/// broke: it may or may not have run.</param>
public sealed class PeerUnavailableException(string message, Exception? inner = null, bool requestSent = false) : Exception(message, inner)
{
    /// <summary>Whether the request may have reached the peer (and so may have run).</summary>
    public bool RequestSent { get; } = requestSent;
}

/// <summary>The peer refused us: wrong or missing cluster key (grpc-status UNAUTHENTICATED).</summary>
public sealed class ClusterAuthenticationException(string message) : Exception(message);

/// <summary>A call failed on the remote side; <see cref="StatusCode"/> is a gRPC status code.</summary>
public sealed class RemoteCallException(int statusCode, string message, string? remoteExceptionType)
    : Exception(message)
{
    public int StatusCode { get; } = statusCode;
    public string? RemoteExceptionType { get; } = remoteExceptionType;
}
