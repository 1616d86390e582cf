namespace AlignCluster.Runtime.Storage;

/// <summary>
/// A keyed blob store with optimistic concurrency: the one storage seam of the runtime.
/// Grain state, reminders, the membership table and checkpoints all sit on it.
/// Implementations: memory, local directory (embedded default; atomic writes), Azure Blob Storage (REST).
/// </summary>
/// <remarks>
/// Contract for <see cref="WriteAsync"/>: <paramref name="expectedEtag"/> = null means "the record must not
/// exist" (If-None-Match: *); otherwise the stored ETag must equal it (If-Match). On a mismatch the store throws
/// <see cref="InconsistentStateException"/> and changes nothing. A write is all-or-nothing: a reader never sees a
/// partially written record.
/// </remarks>
public interface IStateStore
{
    /// <summary>Provider name for errors and telemetry, e.g. "memory", "local:/var/lib/aligncluster", "azureblob:acct/container".</summary>
    string Name { get; }

    /// <summary>Reads a record; null when it does not exist.</summary>
    Task<StoredRecord?> ReadAsync(string container, string key, CancellationToken cancellationToken = default);

    /// <summary>Writes a record under an ETag condition and returns the new ETag.</summary>
    Task<string> WriteAsync(string container, string key, ReadOnlyMemory<byte> data, string? expectedEtag, CancellationToken cancellationToken = default);

    /// <summary>Deletes a record; <paramref name="expectedEtag"/> null deletes unconditionally. Deleting a missing record is not an error.</summary>
    Task DeleteAsync(string container, string key, string? expectedEtag, CancellationToken cancellationToken = default);

    /// <summary>Lists the keys in a container that start with <paramref name="prefix"/>, in ordinal order.</summary>
    IAsyncEnumerable<string> ListAsync(string container, string prefix = "", CancellationToken cancellationToken = default);
}

/// <summary>A stored record: its bytes and the ETag to pass to the next conditional write.</summary>
public sealed record StoredRecord(ReadOnlyMemory<byte> Data, string Etag);

/// <summary>An ETag condition failed: someone else wrote the record since it was read (Orleans' InconsistentStateException).</summary>
public sealed class InconsistentStateException(string message, string? storedEtag = null, string? expectedEtag = null)
    : Exception(message)
{
    public string? StoredEtag { get; } = storedEtag;
    public string? ExpectedEtag { get; } = expectedEtag;
}

/// <summary>The store could not be reached or refused the request for a reason other than an ETag condition.</summary>
public sealed class StorageUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
