namespace AlignCluster.Client.Cluster;

/// <summary>
/// Recognizes a state store's "state is corrupt: FILE" failure (a truncated or garbled record) wherever the runtime
/// wrapped it, by its message: the storage provider says it, whichever runtime hosts the grains, so the client's
/// verdict (unusable state, exit 3) does not depend on the runtime's exception types.
/// </summary>
public static class CorruptState
{
    public const string Marker = "state is corrupt: ";

    /// <summary>"state is corrupt: FILE (why)" from <paramref name="e"/> or an exception inside it; null if none
    /// says so.</summary>
    public static string? Describe(Exception e)
    {
        for (var current = e; current is not null; current = current.InnerException)
        {
            int at = current.Message.IndexOf(Marker, StringComparison.Ordinal);
            if (at >= 0)
            {
                // One line: a wrapper (e.g. a failed activation) may quote the inner exception with its stack after it.
                string text = current.Message[at..];
                int end = text.IndexOf('\n');
                return end < 0 ? text : text[..end].TrimEnd();
            }
            if (current is AggregateException { InnerExceptions: [var single] } && Describe(single) is { } inner)
                return inner;
        }
        return null;
    }
}
