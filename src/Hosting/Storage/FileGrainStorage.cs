using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Orleans.Serialization;
using Orleans.Storage;

namespace AlignCluster.Hosting.Storage;

/// <summary>
/// Grain state as one file per grain and state name: <c>{directory}/{stateName}/{grainType}/{grainKey}.state</c>
/// (names percent-escaped; a name longer than 200 characters becomes its SHA-256). The payload is Orleans' own
/// binary serialization, version tolerant for <c>[GenerateSerializer]</c> types.
/// </summary>
/// <remarks>
/// <para>File layout: "ACGS" | format (int32 LE, 1) | version (int64 LE) | payload length (int64 LE) |
/// SHA-256 of the payload (32 bytes) | payload. A short file, a wrong magic, length or hash, or a payload that does not
/// deserialize raises <see cref="CorruptStateException"/> ("state is corrupt: FILE (...)") instead of handing the
/// grain default state.</para>
/// <para>ETag = the version. A write or clear whose ETag differs from the stored version (or expects a file that
/// is gone, or no file where one exists) raises <see cref="InconsistentStateException"/>. The version check and
/// the replace run under an exclusive lock on "FILE.lock" (flock: one holder across threads and processes). A new
/// file's first version is the current time in ticks, not 1, so that a writer holding an ETag from before a clear
/// cannot match a file re-created after it.</para>
/// <para>Writes go to a temp file that is fsynced and renamed over the target: a crash leaves the old or the new
/// state, never a torn one. Clear deletes the file.</para>
/// </remarks>
public sealed class FileGrainStorage : IGrainStorage
{
    internal const int HeaderSize = 4 + 4 + 8 + 8 + 32;
    private const int FormatVersion = 1;
    private static ReadOnlySpan<byte> Magic => "ACGS"u8;
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

    private readonly string _name;
    private readonly string _root;
    private readonly Serializer _serializer;

    public FileGrainStorage(string name, string directory, Serializer serializer)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        _name = name;
        _root = Path.GetFullPath(directory);
        _serializer = serializer;
    }

    /// <summary>The file that holds one grain's state (for operators and tests).</summary>
    public string PathOf(string stateName, GrainId grainId) =>
        Path.Combine(
            _root,
            Escape(stateName),
            Escape(grainId.Type.ToString()!),
            Escape(grainId.Key.ToString()!) + ".state"
        );

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        string path = PathOf(stateName, grainId);
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(path).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unavailable($"cannot read {path}", e);
        }
        (long version, ReadOnlyMemory<byte> payload) = Parse(path, bytes);
        T state;
        try
        {
            state = _serializer.Deserialize<T>(payload)!;
        }
        catch (Exception e)
        {
            throw new CorruptStateException(path, $"payload does not deserialize as {typeof(T).Name}: {e.Message}");
        }
        grainState.State = state;
        grainState.ETag = version.ToString();
        grainState.RecordExists = true;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        string path = PathOf(stateName, grainId);
        byte[] payload = _serializer.SerializeToArray(grainState.State);
        using FileStream lockFile = await LockAsync(path).ConfigureAwait(false);
        long? stored = StoredVersion(path);
        Check(path, "write", grainState.ETag, stored);
        long version = stored is { } v ? v + 1 : Math.Max(1, DateTime.UtcNow.Ticks);
        WriteAtomically(path, version, payload);
        grainState.ETag = version.ToString();
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        string path = PathOf(stateName, grainId);
        using FileStream lockFile = await LockAsync(path).ConfigureAwait(false);
        long? stored = StoredVersion(path);
        Check(path, "clear", grainState.ETag, stored);
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unavailable($"cannot delete {path}", e);
        }
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    private static void Check(string path, string operation, string? etag, long? stored)
    {
        string? storedEtag = stored?.ToString();
        if (etag == storedEtag)
            return;
        string expected = etag is null ? "no stored state" : $"version {etag}";
        string found = stored is null ? "no stored state" : $"version {stored}";
        // Orleans' parameter order: (message, storedEtag, currentEtag): stored = on disk, current = the grain's.
        throw new InconsistentStateException(
            $"{operation} of {path} lost a race: the grain expected {expected}, the file has {found}",
            storedEtag ?? "(none)",
            etag ?? "(none)"
        );
    }

    /// <summary>The stored version, or null without a file; a header that does not parse is corruption.</summary>
    private long? StoredVersion(string path)
    {
        try
        {
            using var file = new FileStream(
                path,
                FileMode.Open,
                FileAccess.Read,
                FileShare.ReadWrite | FileShare.Delete
            );
            Span<byte> header = stackalloc byte[HeaderSize];
            int read = file.ReadAtLeast(header, HeaderSize, throwOnEndOfStream: false);
            if (read < HeaderSize)
                throw new CorruptStateException(path, $"{read} bytes, shorter than the header");
            if (!header[..4].SequenceEqual(Magic))
                throw new CorruptStateException(path, "not a grain state file");
            return BinaryPrimitives.ReadInt64LittleEndian(header[8..]);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unavailable($"cannot read {path}", e);
        }
    }

    private static (long Version, ReadOnlyMemory<byte> Payload) Parse(string path, byte[] bytes)
    {
        if (bytes.Length < HeaderSize)
            throw new CorruptStateException(path, $"{bytes.Length} bytes, shorter than the {HeaderSize}-byte header");
        ReadOnlySpan<byte> span = bytes;
        if (!span[..4].SequenceEqual(Magic))
            throw new CorruptStateException(path, "not a grain state file");
        int format = BinaryPrimitives.ReadInt32LittleEndian(span[4..]);
        if (format != FormatVersion)
            throw new CorruptStateException(path, $"unknown format {format}");
        long version = BinaryPrimitives.ReadInt64LittleEndian(span[8..]);
        long length = BinaryPrimitives.ReadInt64LittleEndian(span[16..]);
        if (length != bytes.Length - HeaderSize)
            throw new CorruptStateException(
                path,
                $"truncated or extended: header says {length} payload bytes, file has {bytes.Length - HeaderSize}"
            );
        ReadOnlySpan<byte> payload = span[HeaderSize..];
        if (!SHA256.HashData(payload).AsSpan().SequenceEqual(span.Slice(24, 32)))
            throw new CorruptStateException(path, "payload checksum mismatch");
        return (version, bytes.AsMemory(HeaderSize));
    }

    private void WriteAtomically(string path, long version, byte[] payload)
    {
        string directory = Path.GetDirectoryName(path)!;
        string temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.partial");
        byte[] header = new byte[HeaderSize];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(4), FormatVersion);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(8), version);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(16), payload.Length);
        SHA256.HashData(payload, header.AsSpan(24, 32));
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                file.Write(header);
                file.Write(payload);
                file.Flush(flushToDisk: true); // fsync before the rename: a crash must not expose an empty file
            }
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw Unavailable($"cannot write {path}", e);
        }
    }

    /// <summary>An exclusive lock on "FILE.lock" until disposed (the lock file stays: deleting it races).</summary>
    private async Task<FileStream> LockAsync(string path)
    {
        string lockPath = path + ".lock";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unavailable($"cannot create the directory of {path}", e);
        }
        DateTime deadline = DateTime.UtcNow + LockTimeout;
        int delayMs = 1;
        while (true)
        {
            try
            {
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                // Held by another writer of this grain's state: wait briefly (writes take milliseconds).
                await Task.Delay(delayMs).ConfigureAwait(false);
                delayMs = Math.Min(delayMs * 2, 50);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw Unavailable($"cannot lock {lockPath} within {LockTimeout.TotalSeconds:0} s", e);
            }
        }
    }

    private Checkpoints.StorageUnavailableException Unavailable(string what, Exception cause) =>
        new($"grain storage '{_name}' (file:{_root})", $"{what}: {cause.Message}", cause);

    private static string Escape(string name)
    {
        string escaped = Uri.EscapeDataString(name);
        if (escaped.Length <= 200 && escaped is not ("." or ".."))
            return escaped;
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)));
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
