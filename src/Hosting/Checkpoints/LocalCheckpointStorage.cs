using System.Runtime.CompilerServices;

namespace AlignCluster.Hosting.Checkpoints;

/// <summary>
/// Checkpoints as files under one directory (the embedded default). A write goes to a hidden temp file next to its
/// target, is flushed to disk (fsync), then renamed over the target: rename is atomic on one file system, so a crash
/// leaves the old file or the new one, never a half-written one. A crash mid-write can leave a temp file
/// (".name.*.partial"); listing skips those and the next write of the key does not depend on them.
/// </summary>
public sealed class LocalCheckpointStorage : ICheckpointStorage
{
    private const string PartialSuffix = ".partial";
    private readonly string _root;

    public LocalCheckpointStorage(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        _root = Path.GetFullPath(directory);
        Name = "local:" + _root;
    }

    public string Name { get; }

    public Task<Stream?> OpenReadAsync(string key, CancellationToken ct = default)
    {
        string path = PathOf(key);
        try
        {
            Stream stream = new FileStream(
                path,
                FileMode.Open,
                FileAccess.Read,
                FileShare.Read | FileShare.Delete,
                bufferSize: 1 << 16,
                FileOptions.Asynchronous | FileOptions.SequentialScan
            );
            return Task.FromResult<Stream?>(stream);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
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
        string path = PathOf(key);
        string directory = Path.GetDirectoryName(path)!;
        string temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}{PartialSuffix}");
        FileStream file;
        try
        {
            Directory.CreateDirectory(directory);
            file = new FileStream(
                temp,
                FileMode.CreateNew,
                FileAccess.Write,
                FileShare.None,
                bufferSize: 1 << 16,
                FileOptions.Asynchronous
            );
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unavailable($"cannot create '{key}'", e);
        }

        bool renamed = false;
        try
        {
            await using (file)
            {
                // The writer's own exceptions pass through unchanged: only our file operations are "unavailable".
                await write(file, ct).ConfigureAwait(false);
                ct.ThrowIfCancellationRequested();
                try
                {
                    await file.FlushAsync(ct).ConfigureAwait(false);
                    file.Flush(flushToDisk: true); // fsync before the rename: a crash must not expose an empty file
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw Unavailable($"cannot write '{key}'", e);
                }
            }
            try
            {
                File.Move(temp, path, overwrite: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw Unavailable($"cannot rename the temp file of '{key}' into place", e);
            }
            renamed = true;
        }
        finally
        {
            if (!renamed)
                TryDelete(temp);
        }
    }

    public Task WriteAsync(string key, ReadOnlyMemory<byte> data, CancellationToken ct = default) =>
        WriteAsync(key, (stream, token) => stream.WriteAsync(data, token).AsTask(), ct);

    public Task<bool> ExistsAsync(string key, CancellationToken ct = default) =>
        Task.FromResult(File.Exists(PathOf(key)));

    public Task DeleteAsync(string key, CancellationToken ct = default)
    {
        string path = PathOf(key);
        try
        {
            File.Delete(path); // no error when missing
        }
        catch (DirectoryNotFoundException) { }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unavailable($"cannot delete '{key}'", e);
        }
        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<string> ListAsync(
        string prefix,
        [EnumeratorCancellation] CancellationToken ct = default
    )
    {
        CheckpointKeys.ValidatePrefix(prefix);
        List<string> keys = [];
        if (Directory.Exists(_root))
        {
            try
            {
                foreach (string file in Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories))
                {
                    string name = Path.GetFileName(file);
                    if (name.StartsWith('.') && name.EndsWith(PartialSuffix, StringComparison.Ordinal))
                        continue;
                    string key = Path.GetRelativePath(_root, file).Replace(Path.DirectorySeparatorChar, '/');
                    if (key.StartsWith(prefix, StringComparison.Ordinal))
                        keys.Add(key);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw Unavailable($"cannot list '{prefix}'", e);
            }
        }
        keys.Sort(StringComparer.Ordinal);
        foreach (string key in keys)
        {
            ct.ThrowIfCancellationRequested();
            yield return key;
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }

    private string PathOf(string key)
    {
        CheckpointKeys.Validate(key);
        return Path.Combine(_root, key.Replace('/', Path.DirectorySeparatorChar));
    }

    private StorageUnavailableException Unavailable(string what, Exception cause) =>
        new(Name, $"{what}: {cause.Message}", cause);

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
