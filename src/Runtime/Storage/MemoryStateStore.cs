using System.Runtime.CompilerServices;

namespace AlignCluster.Runtime.Storage;

/// <summary>
/// An in-process <see cref="IStateStore"/> for tests and single-process runs: nothing survives the process.
/// ETags come from one counter per store, so an ETag is never reused (no ABA after delete and re-create).
/// </summary>
public sealed class MemoryStateStore : IStateStore
{
    private readonly Dictionary<(string Container, string Key), StoredRecord> _records = new();
    private readonly Lock _gate = new();
    private long _lastEtag;

    public string Name => "memory";

    public Task<StoredRecord?> ReadAsync(string container, string key, CancellationToken cancellationToken = default)
    {
        Validate(container, key);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate) return Task.FromResult(_records.GetValueOrDefault((container, key)));
    }

    public Task<string> WriteAsync(string container, string key, ReadOnlyMemory<byte> data, string? expectedEtag, CancellationToken cancellationToken = default)
    {
        Validate(container, key);
        cancellationToken.ThrowIfCancellationRequested();
        var copy = data.ToArray(); // the caller may reuse its buffer
        lock (_gate)
        {
            _records.TryGetValue((container, key), out var stored);
            EtagConditions.Check(Name, container, key, stored?.Etag, expectedEtag);
            var etag = (++_lastEtag).ToString(System.Globalization.CultureInfo.InvariantCulture);
            _records[(container, key)] = new StoredRecord(copy, etag);
            return Task.FromResult(etag);
        }
    }

    public Task DeleteAsync(string container, string key, string? expectedEtag, CancellationToken cancellationToken = default)
    {
        Validate(container, key);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!_records.TryGetValue((container, key), out var stored)) return Task.CompletedTask;
            if (expectedEtag is not null) EtagConditions.Check(Name, container, key, stored.Etag, expectedEtag);
            _records.Remove((container, key));
        }
        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<string> ListAsync(string container, string prefix = "", [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        StoreKeys.ValidateContainer(container);
        ArgumentNullException.ThrowIfNull(prefix);
        List<string> keys;
        lock (_gate)
            keys = _records.Keys.Where(k => k.Container == container && k.Key.StartsWith(prefix, StringComparison.Ordinal)).Select(k => k.Key).ToList();
        keys.Sort(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return key;
        }
        await Task.CompletedTask;
    }

    private static void Validate(string container, string key)
    {
        StoreKeys.ValidateContainer(container);
        StoreKeys.ValidateKey(key);
    }
}
