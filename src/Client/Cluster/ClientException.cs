namespace AlignCluster.Client.Cluster;

/// <summary>A user-facing failure: printed as "error: {message}" and turned into <see cref="ExitCode"/>, never a stack
/// trace.</summary>
public sealed class ClientException(string message, int exitCode = 2, Exception? inner = null)
    : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
}
