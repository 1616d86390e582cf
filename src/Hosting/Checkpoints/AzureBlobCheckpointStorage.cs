using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace AlignCluster.Hosting.Checkpoints;

/// <summary>
/// Checkpoints as block blobs in one container. A write stages its bytes as blocks of <c>blockSize</c> and commits
/// the block list at the end: staged blocks are invisible until the commit, so readers see the old blob or the new
/// one in full (atomic), and a blob can hold up to 50,000 blocks (400 GiB at the default 8 MiB), far past 2 GB.
/// A writer that throws commits nothing; its staged blocks are discarded by the service after a week.
/// </summary>
public sealed class AzureBlobCheckpointStorage : ICheckpointStorage
{
    /// <summary>8 MiB: a 100 GB checkpoint stays under the 50,000-block limit (12,800 blocks).</summary>
    public const int DefaultBlockSize = 8 << 20;

    private readonly BlobContainerClient _container;
    private readonly int _blockSize;
    private readonly SemaphoreSlim _createLock = new(1, 1);
    private volatile bool _containerExists;

    public AzureBlobCheckpointStorage(BlobContainerClient container, int blockSize = DefaultBlockSize)
    {
        ArgumentNullException.ThrowIfNull(container);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        _container = container;
        _blockSize = blockSize;
        Name = $"azureblob:{container.AccountName}/{container.Name}";
    }

    /// <summary>
    /// A store on <paramref name="containerName"/> of the account that <paramref name="connectionString"/> names (the
    /// container is created on first write). Retries are few and short so that an unreachable account fails within
    /// seconds instead of minutes.
    /// </summary>
    public static AzureBlobCheckpointStorage FromConnectionString(
        string connectionString,
        string containerName,
        int blockSize = DefaultBlockSize
    )
    {
        var options = new BlobClientOptions();
        options.Retry.MaxRetries = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(200);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(2);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(100);
        var container = new BlobContainerClient(connectionString, containerName, options);
        return new AzureBlobCheckpointStorage(container, blockSize);
    }

    public string Name { get; }

    public async Task<Stream?> OpenReadAsync(string key, CancellationToken ct = default)
    {
        BlobClient blob = BlobOf(key);
        try
        {
            // allowModifications: false pins the read to the blob's ETag, so an overwrite during a long read fails
            // the read (412) instead of splicing two versions together.
            var options = new BlobOpenReadOptions(allowModifications: false);
            return await blob.OpenReadAsync(options, ct).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
        catch (Exception e) when (IsStorageFailure(e))
        {
            throw Unavailable($"cannot read '{key}'", e);
        }
    }

    public async Task WriteAsync(
        string key,
        Func<Stream, CancellationToken, Task> write,
        CancellationToken ct = default
    )
    {
        ArgumentNullException.ThrowIfNull(write);
        BlockBlobClient blob = _container.GetBlockBlobClient(ValidKey(key));
        await EnsureContainerAsync(ct).ConfigureAwait(false);
        await using var staging = new BlockStagingStream(blob, _blockSize, this, key);
        await write(staging, ct).ConfigureAwait(false);
        ct.ThrowIfCancellationRequested();
        await staging.CommitAsync(ct).ConfigureAwait(false);
    }

    public Task WriteAsync(string key, ReadOnlyMemory<byte> data, CancellationToken ct = default) =>
        WriteAsync(key, (stream, token) => stream.WriteAsync(data, token).AsTask(), ct);

    public async Task<bool> ExistsAsync(string key, CancellationToken ct = default)
    {
        BlobClient blob = BlobOf(key);
        try
        {
            return (await blob.ExistsAsync(ct).ConfigureAwait(false)).Value;
        }
        catch (Exception e) when (IsStorageFailure(e))
        {
            throw Unavailable($"cannot check '{key}'", e);
        }
    }

    public async Task DeleteAsync(string key, CancellationToken ct = default)
    {
        BlobClient blob = BlobOf(key);
        try
        {
            await blob.DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: ct)
                .ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            // The container itself is missing: so is the blob.
        }
        catch (Exception e) when (IsStorageFailure(e))
        {
            throw Unavailable($"cannot delete '{key}'", e);
        }
    }

    public async IAsyncEnumerable<string> ListAsync(
        string prefix,
        [EnumeratorCancellation] CancellationToken ct = default
    )
    {
        CheckpointKeys.ValidatePrefix(prefix);
        List<string> keys = [];
        try
        {
            await foreach (
                BlobItem item in _container
                    .GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix.Length == 0 ? null : prefix, ct)
                    .ConfigureAwait(false)
            )
                keys.Add(item.Name);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            // No container yet: nothing was ever written.
        }
        catch (Exception e) when (IsStorageFailure(e))
        {
            throw Unavailable($"cannot list '{prefix}'", e);
        }
        // The service lists in its own order; the contract is ordinal.
        keys.Sort(StringComparer.Ordinal);
        foreach (string key in keys)
            yield return key;
    }

    private BlobClient BlobOf(string key) => _container.GetBlobClient(ValidKey(key));

    private static string ValidKey(string key)
    {
        CheckpointKeys.Validate(key);
        return key;
    }

    private async Task EnsureContainerAsync(CancellationToken ct)
    {
        if (_containerExists)
            return;
        await _createLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_containerExists)
                return;
            await _container.CreateIfNotExistsAsync(cancellationToken: ct).ConfigureAwait(false);
            _containerExists = true;
        }
        catch (Exception e) when (IsStorageFailure(e))
        {
            throw Unavailable("cannot create the container", e);
        }
        finally
        {
            _createLock.Release();
        }
    }

    /// <summary>Failures of the service or the network (not the caller's cancellation or bad arguments).</summary>
    private static bool IsStorageFailure(Exception e) =>
        e is RequestFailedException or AggregateException or HttpRequestException or IOException or TimeoutException;

    private StorageUnavailableException Unavailable(string what, Exception cause) =>
        new(Name, $"{what}: {FirstLine(cause.Message)}", cause);

    // The Azure SDK's messages carry the whole HTTP response; the first line names the cause.
    private static string FirstLine(string message)
    {
        int newline = message.IndexOf('\n');
        return (newline < 0 ? message : message[..newline]).TrimEnd('\r', ' ');
    }

    /// <summary>
    /// A write-only stream that stages every <c>blockSize</c> bytes as one block and commits the list on
    /// <see cref="CommitAsync"/> only; disposing without a commit leaves the blob as it was.
    /// </summary>
    private sealed class BlockStagingStream : Stream
    {
        private readonly BlockBlobClient _blob;
        private readonly AzureBlobCheckpointStorage _store;
        private readonly string _key;
        private readonly byte[] _buffer;
        private readonly List<string> _blockIds = [];

        // A fresh prefix per write: two writers of one key must never stage blocks under the same id.
        private readonly string _writeId = Guid.NewGuid().ToString("N");
        private int _filled;
        private long _length;
        private bool _disposed;

        public BlockStagingStream(BlockBlobClient blob, int blockSize, AzureBlobCheckpointStorage store, string key)
        {
            _blob = blob;
            _store = store;
            _key = key;
            _buffer = ArrayPool<byte>.Shared.Rent(blockSize);
            BlockSize = blockSize;
        }

        private int BlockSize { get; }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => !_disposed;
        public override long Length => _length;
        public override long Position
        {
            get => _length;
            set => throw new NotSupportedException();
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> source)
        {
            while (!source.IsEmpty)
            {
                int n = Fill(source);
                source = source[n..];
                if (_filled == BlockSize)
                    StageAsync(CancellationToken.None).GetAwaiter().GetResult();
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
            WriteAsync(buffer.AsMemory(offset, count), ct).AsTask();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> source, CancellationToken ct = default)
        {
            while (!source.IsEmpty)
            {
                int n = Fill(source.Span);
                source = source[n..];
                if (_filled == BlockSize)
                    await StageAsync(ct).ConfigureAwait(false);
            }
        }

        public override void Flush()
        {
            // Blocks are staged when full; committing is explicit (CommitAsync), never a side effect of Flush.
        }

        public async Task CommitAsync(CancellationToken ct)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_filled > 0)
                await StageAsync(ct).ConfigureAwait(false);
            try
            {
                await _blob.CommitBlockListAsync(_blockIds, new CommitBlockListOptions(), ct).ConfigureAwait(false);
            }
            catch (Exception e) when (IsStorageFailure(e))
            {
                throw _store.Unavailable($"cannot commit '{_key}'", e);
            }
        }

        private int Fill(ReadOnlySpan<byte> source)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            int n = Math.Min(source.Length, BlockSize - _filled);
            source[..n].CopyTo(_buffer.AsSpan(_filled));
            _filled += n;
            _length += n;
            return n;
        }

        private async Task StageAsync(CancellationToken ct)
        {
            // Block ids must all have the same length within a blob: a fixed-width index does that.
            string id = Convert.ToBase64String(Encoding.ASCII.GetBytes($"{_writeId}-{_blockIds.Count:D6}"));
            try
            {
                using var content = new MemoryStream(_buffer, 0, _filled, writable: false);
                await _blob.StageBlockAsync(id, content, new BlockBlobStageBlockOptions(), ct).ConfigureAwait(false);
            }
            catch (Exception e) when (IsStorageFailure(e))
            {
                throw _store.Unavailable($"cannot stage block {_blockIds.Count} of '{_key}'", e);
            }
            _blockIds.Add(id);
            _filled = 0;
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (!_disposed)
            {
                _disposed = true;
                ArrayPool<byte>.Shared.Return(_buffer);
            }
            base.Dispose(disposing);
        }
    }
}
