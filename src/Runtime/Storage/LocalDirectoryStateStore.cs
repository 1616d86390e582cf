using System.Runtime.CompilerServices;

namespace AlignCluster.Runtime.Storage;

/// <summary>
/// The embedded default <see cref="IStateStore"/>: one file per record under a root directory,
/// <c>ROOT/&lt;container&gt;/&lt;encoded key&gt;</c>.
/// </summary>
/// <remarks>
/// <para><b>Atomicity.</b> A write goes to a temp file in <c>ROOT/&lt;container&gt;/.tmp/</c> (same file system), is flushed to disk (fsync), and is
/// renamed over the record; the directory is then fsynced. Readers therefore see the old record or the new one,
/// never a partial file; a crash mid-write leaves at most a stale temp file, which readers and listings ignore and
/// the next write of that key deletes.</para>
/// <para><b>ETags</b> are random 128-bit values stored in the record file, so they survive restarts and are never reused.</para>
/// <para><b>Concurrency.</b> The ETag check and the rename happen while holding an exclusive lock on
/// <c>ROOT/&lt;container&gt;/.locks/&lt;name&gt;</c> (a non-blocking <c>flock</c> taken by .NET for <see cref="FileShare.None"/>).
/// The kernel drops it when its holder dies, so a crashed process never leaves a key locked. This makes
/// compare-and-swap exact between threads, between store instances and between processes on one machine's local
/// file system. It does not hold on network file systems without working locks, nor when
/// <c>DOTNET_SYSTEM_IO_DISABLEFILELOCKING</c> is set (the constructor refuses that).</para>
/// <para><b>Names.</b> Containers and keys go through <see cref="StoreKeys.Encode"/> with case folding, so any key is a
/// safe, case-insensitively unique file name; names longer than 200 characters are shortened and end in a SHA-256 of
/// the key (the key itself is kept in the record's header for listing).</para>
/// </remarks>
public sealed class LocalDirectoryStateStore : IStateStore
{
    private const int MaxFileNameLength = 200;
    private const string LockDirectory = ".locks";
    private const string TempDirectory = ".tmp";
    private readonly SemaphoreSlim[] _stripes = Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    /// <summary>Creates the store; the directory is created when missing.</summary>
    /// <param name="root">Root directory of all containers.</param>
    /// <param name="lockTimeout">How long a write waits for another writer of the same key before failing (default 30 s).</param>
    /// <param name="flushToDisk">
    /// fsync each record and its directory (default). false keeps writes atomic for readers and across process crashes,
    /// but a power loss may lose recent writes (tests, scratch runs).
    /// </param>
    public LocalDirectoryStateStore(string root, TimeSpan? lockTimeout = null, bool flushToDisk = true)
    {
        FlushToDisk = flushToDisk;
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        var disabled = Environment.GetEnvironmentVariable("DOTNET_SYSTEM_IO_DISABLEFILELOCKING");
        if (disabled is "1" || string.Equals(disabled, "true", StringComparison.OrdinalIgnoreCase))
            throw new NotSupportedException("LocalDirectoryStateStore needs file locks for its compare-and-swap; unset DOTNET_SYSTEM_IO_DISABLEFILELOCKING");
        Root = Path.GetFullPath(root);
        LockTimeout = lockTimeout ?? TimeSpan.FromSeconds(30);
        try { Directory.CreateDirectory(Root); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        { throw new StorageUnavailableException($"local: cannot create the storage directory {Root}: {ex.Message}", ex); }
    }

    /// <summary>Absolute root directory.</summary>
    public string Root { get; }

    /// <summary>How long a write waits for the lock of its key.</summary>
    public TimeSpan LockTimeout { get; }

    /// <summary>Whether writes are fsynced before they return (see the constructor).</summary>
    public bool FlushToDisk { get; }

    public string Name => $"local:{Root}";

    public async Task<StoredRecord?> ReadAsync(string container, string key, CancellationToken cancellationToken = default)
    {
        var path = RecordPath(container, key);
        byte[] bytes;
        try
        {
            await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.Asynchronous);
            bytes = new byte[file.Length];
            await file.ReadExactlyAsync(bytes, cancellationToken);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException) { return null; }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { throw Unavailable("read", path, ex); }
        var (etag, _, data) = ParseOrThrow(path, bytes);
        return new StoredRecord(data, etag);
    }

    public async Task<string> WriteAsync(string container, string key, ReadOnlyMemory<byte> data, string? expectedEtag, CancellationToken cancellationToken = default)
    {
        var path = RecordPath(container, key);
        var directory = Path.GetDirectoryName(path)!;
        var fileName = Path.GetFileName(path);
        try
        {
            if (!Directory.Exists(directory))
            {
                Directory.CreateDirectory(directory);
                if (FlushToDisk) FileSystemSync.SyncDirectory(Root); // the new container directory must survive a crash too
            }
            using var held = await LockAsync(directory, fileName, cancellationToken);
            DeleteStaleTempFiles(directory, fileName);
            EtagConditions.Check(Name, container, key, ReadEtag(path), expectedEtag);
            var etag = RecordFile.NewEtag();
            var temp = Path.Combine(directory, TempDirectory, $"{fileName}.{Guid.NewGuid():N}");
            try
            {
                using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    RecordFile.Write(file, etag, key, data.Span);
                    file.Flush(flushToDisk: FlushToDisk);
                }
                File.Move(temp, path, overwrite: true);
            }
            catch
            {
                TryDelete(temp);
                throw;
            }
            if (FlushToDisk) FileSystemSync.SyncDirectory(directory);
            return etag;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { throw Unavailable("write", path, ex); }
    }

    public async Task DeleteAsync(string container, string key, string? expectedEtag, CancellationToken cancellationToken = default)
    {
        var path = RecordPath(container, key);
        var directory = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(directory)) return;
        try
        {
            using var held = await LockAsync(directory, Path.GetFileName(path), cancellationToken);
            var stored = ReadEtag(path);
            if (stored is null) return;
            if (expectedEtag is not null) EtagConditions.Check(Name, container, key, stored, expectedEtag);
            File.Delete(path);
            if (FlushToDisk) FileSystemSync.SyncDirectory(directory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { throw Unavailable("delete", path, ex); }
    }

    public async IAsyncEnumerable<string> ListAsync(string container, string prefix = "", [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        StoreKeys.ValidateContainer(container);
        ArgumentNullException.ThrowIfNull(prefix);
        var directory = Path.Combine(Root, StoreKeys.Encode(container, foldCase: true));
        var keys = new List<string>();
        try
        {
            if (Directory.Exists(directory))
                foreach (var path in Directory.EnumerateFiles(directory))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var key = KeyOfFile(path);
                    if (key is not null && key.StartsWith(prefix, StringComparison.Ordinal)) keys.Add(key);
                }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { throw Unavailable("list", directory, ex); }
        keys.Sort(StringComparer.Ordinal);
        foreach (var key in keys) yield return key;
        await Task.CompletedTask;
    }

    /// <summary>The file that holds a record (whether or not it exists).</summary>
    public string RecordPath(string container, string key)
    {
        StoreKeys.ValidateContainer(container);
        StoreKeys.ValidateKey(key);
        return Path.Combine(Root, StoreKeys.Encode(container, foldCase: true), FileNameOf(key));
    }

    private static string FileNameOf(string key) => StoreKeys.EncodeBounded(key, foldCase: true, MaxFileNameLength);

    /// <summary>The key a file in a container directory holds; null for temp, lock and foreign files.</summary>
    private string? KeyOfFile(string path)
    {
        var name = Path.GetFileName(path);
        if (name.StartsWith('.')) return null;
        if (!StoreKeys.IsShortened(name))
        {
            var key = StoreKeys.TryDecode(name);
            return key is not null && StoreKeys.Encode(key, foldCase: true) == name ? key : null;
        }
        var head = ReadHead(path);
        if (head is null) return null;
        var (_, storedKey, _) = ParseHeaderOrThrow(path, head);
        return FileNameOf(storedKey) == name ? storedKey : null;
    }

    private string? ReadEtag(string path)
    {
        var head = ReadHead(path);
        return head is null ? null : ParseHeaderOrThrow(path, head).Etag;
    }

    private static byte[]? ReadHead(string path)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
            var head = new byte[Math.Min(file.Length, RecordFile.MaxHeaderLength)];
            file.ReadExactly(head);
            return head;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException) { return null; }
    }

    private static (string Etag, string Key, byte[] Data) ParseOrThrow(string path, byte[] bytes)
    {
        try { return RecordFile.Parse(bytes); }
        catch (InvalidDataException ex) { throw Corrupt(path, ex); }
    }

    private static (string Etag, string Key, int DataOffset) ParseHeaderOrThrow(string path, byte[] head)
    {
        try { return RecordFile.ParseHeader(head); }
        catch (InvalidDataException ex) { throw Corrupt(path, ex); }
    }

    /// <summary>
    /// "state is corrupt: FILE (why)": the client recognizes this wording, wherever the runtime wraps it (an activation
    /// failure), and exits 3 naming the file.
    /// </summary>
    private static StorageUnavailableException Corrupt(string path, InvalidDataException ex) =>
        new($"state is corrupt: {path} ({ex.Message})", ex);

    /// <summary>
    /// Temp files of a key can only be stale while we hold its lock: their writer died mid-write. They live in their
    /// own directory, which is nearly always empty, so this costs no scan of the records.
    /// </summary>
    private static void DeleteStaleTempFiles(string directory, string fileName)
    {
        var temps = Path.Combine(directory, TempDirectory);
        Directory.CreateDirectory(temps);
        foreach (var temp in Directory.EnumerateFiles(temps, $"{fileName}.*"))
        {
            // "<name>.<32 hex>" only: the pattern also matches temps of a key whose name continues with a dot.
            var suffix = Path.GetFileName(temp).AsSpan(fileName.Length + 1);
            if (suffix.Length == 32 && !suffix.ContainsAnyExcept("0123456789abcdef")) TryDelete(temp);
        }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>Takes the in-process stripe, then the cross-process file lock, of one key.</summary>
    private async Task<IDisposable> LockAsync(string directory, string fileName, CancellationToken cancellationToken)
    {
        var stripe = _stripes[(int)((uint)StringComparer.Ordinal.GetHashCode(directory + "/" + fileName) % (uint)_stripes.Length)];
        if (!await stripe.WaitAsync(LockTimeout, cancellationToken))
            throw new StorageUnavailableException($"{Name}: timed out after {LockTimeout} waiting for another writer of {Path.Combine(directory, fileName)}");
        try
        {
            var lockPath = Path.Combine(directory, LockDirectory, fileName);
            var file = await FileLock.AcquireAsync(lockPath, LockTimeout, Name, cancellationToken);
            return new Held(stripe, file);
        }
        catch
        {
            stripe.Release();
            throw;
        }
    }

    private StorageUnavailableException Unavailable(string operation, string path, Exception ex) =>
        new($"{Name}: cannot {operation} {path}: {ex.Message}", ex);

    private sealed class Held(SemaphoreSlim stripe, FileStream lockFile) : IDisposable
    {
        public void Dispose()
        {
            lockFile.Dispose();
            stripe.Release();
        }
    }
}
