using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using AlignCluster.Runtime.Storage;

namespace AlignCluster.Runtime.Tests.Core;

/// <summary>A minimal in-memory IStateStore for the runtime tests (a private double until storage's MemoryStateStore
/// is on main). ETags are a per-store counter; every conditional check happens under one lock.</summary>
internal sealed class TestStateStore : IStateStore
{
    private readonly object _gate = new();
    private readonly SortedDictionary<(string, string), StoredRecord> _records = new();
    private long _version;

    public string Name => "test-memory";

    /// <summary>Number of writes so far (tests use it to see that something was persisted).</summary>
    public int Writes;

    public Task<StoredRecord?> ReadAsync(string container, string key, CancellationToken cancellationToken = default)
    {
        lock (_gate) return Task.FromResult(_records.GetValueOrDefault((container, key)));
    }

    public Task<string> WriteAsync(string container, string key, ReadOnlyMemory<byte> data, string? expectedEtag, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var current = _records.GetValueOrDefault((container, key));
            if (current?.Etag != expectedEtag)
                throw new InconsistentStateException($"{container}/{key}: expected ETag {expectedEtag ?? "(absent)"}, stored {current?.Etag ?? "(absent)"}", current?.Etag, expectedEtag);
            var etag = (++_version).ToString();
            _records[(container, key)] = new StoredRecord(data.ToArray(), etag);
            Interlocked.Increment(ref Writes);
            return Task.FromResult(etag);
        }
    }

    public Task DeleteAsync(string container, string key, string? expectedEtag, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var current = _records.GetValueOrDefault((container, key));
            if (current is null) return Task.CompletedTask;
            if (expectedEtag is not null && current.Etag != expectedEtag)
                throw new InconsistentStateException($"{container}/{key}: expected ETag {expectedEtag}, stored {current.Etag}", current.Etag, expectedEtag);
            _records.Remove((container, key));
            return Task.CompletedTask;
        }
    }

    public async IAsyncEnumerable<string> ListAsync(string container, string prefix = "", [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string[] keys;
        lock (_gate) keys = [.. _records.Keys.Where(k => k.Item1 == container && k.Item2.StartsWith(prefix, StringComparison.Ordinal)).Select(k => k.Item2)];
        foreach (var k in keys) { await Task.Yield(); yield return k; }
    }
}
