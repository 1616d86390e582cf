using AlignCluster.Runtime.Storage;

namespace AlignCluster.Runtime.Invocation;

/// <summary>
/// Turns exceptions into (type name, message) for responses and back. Only the message crosses the wire (no stack,
/// no serialized exception objects: nothing is deserialized from an error). Well-known types are rebuilt as
/// themselves so callers can catch them; any other becomes <see cref="GrainCallException"/> naming the type.
/// </summary>
internal static class RemoteExceptions
{
    private static readonly Dictionary<string, Func<string, Exception>> Rebuilders = new(StringComparer.Ordinal)
    {
        [typeof(InconsistentStateException).FullName!] = m => new InconsistentStateException(m),
        [typeof(StorageUnavailableException).FullName!] = m => new StorageUnavailableException(m),
        [typeof(TimeoutException).FullName!] = m => new TimeoutException(m),
        [typeof(OperationCanceledException).FullName!] = m => new OperationCanceledException(m),
        [typeof(TaskCanceledException).FullName!] = m => new OperationCanceledException(m),
        [typeof(ArgumentException).FullName!] = m => new ArgumentException(m),
        [typeof(ArgumentNullException).FullName!] = m => new ArgumentException(m),
        [typeof(ArgumentOutOfRangeException).FullName!] = m => new ArgumentOutOfRangeException(null, m),
        [typeof(InvalidOperationException).FullName!] = m => new InvalidOperationException(m),
        [typeof(NotSupportedException).FullName!] = m => new NotSupportedException(m),
        [typeof(NotImplementedException).FullName!] = m => new NotImplementedException(m),
        [typeof(KeyNotFoundException).FullName!] = m => new KeyNotFoundException(m),
        [typeof(FormatException).FullName!] = m => new FormatException(m),
        [typeof(Serialization.SerializationException).FullName!] = m => new Serialization.SerializationException(m),
        [typeof(GrainCallException).FullName!] = m => new GrainCallException(m),
    };

    /// <summary>The exception a caller throws for an Error response.</summary>
    public static Exception Rebuild(string? type, string? message, GrainMethod method, Messaging.GrainId target)
    {
        message ??= "(no message)";
        type ??= "System.Exception";
        return Rebuilders.TryGetValue(type, out var make) ? make(message)
            : new GrainCallException($"{method} on grain {target} threw {type}: {message}", type);
    }

    /// <summary>Unwraps reflection wrappers to the exception the grain threw.</summary>
    public static Exception Unwrap(Exception e) =>
        e is System.Reflection.TargetInvocationException { InnerException: { } inner } ? Unwrap(inner)
        : e is AggregateException { InnerExceptions.Count: 1 } agg ? Unwrap(agg.InnerExceptions[0]) : e;
}
