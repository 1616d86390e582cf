namespace AlignCluster.Runtime;

/// <summary>A grain call failed with an exception type the caller does not rebuild, or could not be delivered.
/// <see cref="RemoteExceptionType"/> names the original exception type.</summary>
public sealed class GrainCallException(string message, string? remoteExceptionType = null) : Exception(message)
{
    /// <summary>Full name of the exception thrown on the callee, or a rejection reason.</summary>
    public string? RemoteExceptionType { get; } = remoteExceptionType;
}
