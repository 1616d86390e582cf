using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using AlignCluster.Runtime.Storage;

namespace AlignCluster.Runtime.Tests.Net;

/// <summary>A private in-memory IStateStore for the membership tests (ETag = a counter), following the contract in IStateStore.cs.</summary>
internal sealed class TestStateStore : IStateStore
{
    private readonly ConcurrentDictionary<(string, string), StoredRecord> _records = new();
    private long _etags;
    public int ConflictCount;

    public string Name => "test-memory";

    public Task<StoredRecord?> ReadAsync(string container, string key, CancellationToken cancellationToken = default) =>
        Task.FromResult(_records.TryGetValue((container, key), out var r) ? r : null);

    public Task<string> WriteAsync(string container, string key, ReadOnlyMemory<byte> data, string? expectedEtag, CancellationToken cancellationToken = default)
    {
        lock (_records)
        {
            _records.TryGetValue((container, key), out var current);
            if (current?.Etag != expectedEtag)
            {
                Interlocked.Increment(ref ConflictCount);
                throw new InconsistentStateException($"{container}/{key}: etag mismatch", current?.Etag, expectedEtag);
            }
            var etag = Interlocked.Increment(ref _etags).ToString();
            _records[(container, key)] = new StoredRecord(data.ToArray(), etag);
            return Task.FromResult(etag);
        }
    }

    public Task DeleteAsync(string container, string key, string? expectedEtag, CancellationToken cancellationToken = default)
    {
        lock (_records) _records.TryRemove((container, key), out _);
        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<string> ListAsync(string container, string prefix = "", [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        foreach (var key in _records.Keys.Where(k => k.Item1 == container && k.Item2.StartsWith(prefix, StringComparison.Ordinal)).Select(k => k.Item2).Order(StringComparer.Ordinal))
            yield return key;
    }
}
