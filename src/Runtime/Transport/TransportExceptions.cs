namespace AlignCluster.Runtime.Transport;

/// <summary>The target silo cannot be reached, refused the connection, or the connection broke mid-call.</summary>
public sealed class PeerUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The peer refused us: wrong or missing cluster key (grpc-status UNAUTHENTICATED).</summary>
public sealed class ClusterAuthenticationException(string message) : Exception(message);

/// <summary>A call failed on the remote side; <see cref="StatusCode"/> is a gRPC status code.</summary>
public sealed class RemoteCallException(int statusCode, string message, string? remoteExceptionType)
    : Exception(message)
{
    public int StatusCode { get; } = statusCode;
    public string? RemoteExceptionType { get; } = remoteExceptionType;
}
