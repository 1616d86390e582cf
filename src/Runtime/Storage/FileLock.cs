using System.Runtime.InteropServices;

namespace AlignCluster.Runtime.Storage;

/// <summary>Exclusive advisory file locks (.NET takes a non-blocking flock for <see cref="FileShare.None"/> on Unix).</summary>
internal static class FileLock
{
    /// <summary>Opens <paramref name="lockPath"/> exclusively, retrying with backoff while another holder has it.</summary>
    public static async Task<FileStream> AcquireAsync(string lockPath, TimeSpan timeout, string store, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(lockPath)!);
        var deadline = DateTime.UtcNow + timeout;
        var delayMs = 1;
        while (true)
        {
            try
            {
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1);
            }
            catch (IOException ex) when (IsHeldElsewhere(ex))
            {
                if (DateTime.UtcNow >= deadline)
                    throw new StorageUnavailableException($"{store}: timed out after {timeout} waiting for the lock {lockPath} (held by another process)", ex);
                await Task.Delay(delayMs, cancellationToken);
                delayMs = Math.Min(delayMs * 2, 50);
            }
        }
    }

    // Unix: the errno of the failed flock (EWOULDBLOCK: 11 on Linux, 35 on macOS); Windows: ERROR_SHARING_VIOLATION.
    private static bool IsHeldElsewhere(IOException ex) =>
        ex.GetType() == typeof(IOException) && ex.HResult is 11 or 35 or unchecked((int)0x80070020);
}

/// <summary>Makes a rename durable: fsync of the directory that holds the renamed entry (Unix; a no-op on Windows).</summary>
internal static partial class FileSystemSync
{
    public static void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows()) return;
        var fd = Open(directory, 0 /* O_RDONLY */);
        if (fd < 0) return; // best effort: the data itself is already fsynced
        try { Fsync(fd); } finally { Close(fd); }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync")]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
