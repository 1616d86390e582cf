namespace AlignCluster.Hosting.Checkpoints;

/// <summary>
/// A store of large files (weights, optimizer state, progress) addressed by key. Grains pass keys, never the bytes:
/// Orleans drops oversized messages, and a checkpoint can exceed any message or grain-state limit.
/// </summary>
/// <remarks>
/// Keys are relative paths with '/' between segments ("run-1/round-3/model.safetensors"). A write is atomic: a reader
/// sees the old content or the new one in full, never a half-written file. No size cap (files are streamed).
/// An unreachable or unusable store raises <see cref="StorageUnavailableException"/> naming <see cref="Name"/>.
/// </remarks>
public interface ICheckpointStorage
{
    /// <summary>Where the files live, for messages: "local:/dir" or "azureblob:account/container".</summary>
    string Name { get; }

    /// <summary>Opens a stored file for reading, or returns null when the key does not exist.</summary>
    Task<Stream?> OpenReadAsync(string key, CancellationToken ct = default);

    /// <summary>
    /// Stores the bytes that <paramref name="write"/> writes into the stream it is given. They become visible under
    /// <paramref name="key"/> only after <paramref name="write"/> returns; if it throws, nothing changes.
    /// </summary>
    Task WriteAsync(string key, Func<Stream, CancellationToken, Task> write, CancellationToken ct = default);

    /// <summary>Stores <paramref name="data"/> under <paramref name="key"/>, atomically.</summary>
    Task WriteAsync(string key, ReadOnlyMemory<byte> data, CancellationToken ct = default);

    Task<bool> ExistsAsync(string key, CancellationToken ct = default);

    /// <summary>Deletes the file; a missing key is not an error.</summary>
    Task DeleteAsync(string key, CancellationToken ct = default);

    /// <summary>Every key that starts with <paramref name="prefix"/> ("" for all), in ordinal order.</summary>
    IAsyncEnumerable<string> ListAsync(string prefix, CancellationToken ct = default);
}
