using System.Text;
using AlignCluster.Runtime.Storage;

using static AlignCluster.Runtime.Tests.Storage.TestBytes;

namespace AlignCluster.Runtime.Tests.Storage;

/// <summary>A directory under the system temp folder, deleted with the test.</summary>
public sealed class TempDirectory : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "aligncluster-test-" + Guid.NewGuid().ToString("N"));

    public TempDirectory() => Directory.CreateDirectory(Path);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

public sealed class LocalDirectoryStateStoreContractTests : StateStoreContractTests, IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly LocalDirectoryStateStore _store;

    public LocalDirectoryStateStoreContractTests() => _store = new LocalDirectoryStateStore(_dir.Path);

    protected override IStateStore Store => _store;

    public void Dispose() => _dir.Dispose();
}

/// <summary>Without fsync the contract is the same (only power-loss durability differs).</summary>
public sealed class LocalDirectoryWithoutFsyncContractTests : StateStoreContractTests, IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly LocalDirectoryStateStore _store;

    public LocalDirectoryWithoutFsyncContractTests() => _store = new LocalDirectoryStateStore(_dir.Path, flushToDisk: false);

    protected override IStateStore Store => _store;

    public void Dispose() => _dir.Dispose();
}

/// <summary>Two store instances over one directory behave like two processes: only the file locks keep CAS exact.</summary>
public sealed class LocalDirectoryTwoInstancesContractTests : StateStoreContractTests, IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly AlternatingStore _store;

    public LocalDirectoryTwoInstancesContractTests() =>
        _store = new AlternatingStore(new LocalDirectoryStateStore(_dir.Path), new LocalDirectoryStateStore(_dir.Path));

    protected override IStateStore Store => _store;

    public void Dispose() => _dir.Dispose();

    /// <summary>Sends each call to the next of two stores in turn.</summary>
    private sealed class AlternatingStore(IStateStore a, IStateStore b) : IStateStore
    {
        private int _calls;
        private IStateStore Next => Interlocked.Increment(ref _calls) % 2 == 0 ? a : b;
        public string Name => a.Name;
        public Task<StoredRecord?> ReadAsync(string container, string key, CancellationToken ct = default) => Next.ReadAsync(container, key, ct);
        public Task<string> WriteAsync(string container, string key, ReadOnlyMemory<byte> data, string? expectedEtag, CancellationToken ct = default) =>
            Next.WriteAsync(container, key, data, expectedEtag, ct);
        public Task DeleteAsync(string container, string key, string? expectedEtag, CancellationToken ct = default) => Next.DeleteAsync(container, key, expectedEtag, ct);
        public IAsyncEnumerable<string> ListAsync(string container, string prefix = "", CancellationToken ct = default) => Next.ListAsync(container, prefix, ct);
    }
}

public sealed class LocalDirectoryStateStoreTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();


    [Fact]
    public async Task Records_and_etags_survive_a_restart()
    {
        var etag = await new LocalDirectoryStateStore(_dir.Path).WriteAsync("grains", "g1", Bytes("persisted"), null);
        var reopened = new LocalDirectoryStateStore(_dir.Path);
        var record = await reopened.ReadAsync("grains", "g1");
        Assert.Equal("persisted", Encoding.UTF8.GetString(record!.Data.Span));
        Assert.Equal(etag, record.Etag);
        await reopened.WriteAsync("grains", "g1", Bytes("next"), etag); // the old ETag is still the valid condition
    }

    /// <summary>
    /// A writer that died mid-write leaves only its temp file (the rename never happened): the old record stays readable,
    /// listings ignore the temp file, and the next write of the key removes it.
    /// </summary>
    [Fact]
    public async Task A_crash_mid_write_leaves_the_old_record_readable()
    {
        var store = new LocalDirectoryStateStore(_dir.Path);
        var etag = await store.WriteAsync("grains", "g1", Bytes("old"), null);
        var path = store.RecordPath("grains", "g1");
        var temp = Path.Combine(Path.GetDirectoryName(path)!, ".tmp", $"{Path.GetFileName(path)}.{Guid.NewGuid():N}");
        await File.WriteAllBytesAsync(temp, Bytes("ACR1half-written garbage"));

        var record = await store.ReadAsync("grains", "g1");
        Assert.Equal("old", Encoding.UTF8.GetString(record!.Data.Span));
        Assert.Equal(etag, record.Etag);
        var keys = new List<string>();
        await foreach (var key in store.ListAsync("grains")) keys.Add(key);
        Assert.Equal(["g1"], keys);

        await store.WriteAsync("grains", "g1", Bytes("new"), etag);
        Assert.False(File.Exists(temp));
        Assert.Equal("new", Encoding.UTF8.GetString((await store.ReadAsync("grains", "g1"))!.Data.Span));
    }

    /// <summary>Key "a"'s cleanup must not touch a temp of key "a.b" (its name starts with "a." too).</summary>
    [Fact]
    public async Task Stale_temp_cleanup_touches_only_its_own_key()
    {
        var store = new LocalDirectoryStateStore(_dir.Path);
        await store.WriteAsync("c", "a", Bytes("1"), null);
        var temps = Path.Combine(Path.GetDirectoryName(store.RecordPath("c", "a"))!, ".tmp");
        var othersTemp = Path.Combine(temps, $"a.b.{Guid.NewGuid():N}");
        var ownTemp = Path.Combine(temps, $"a.{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(othersTemp, "in progress");
        await File.WriteAllTextAsync(ownTemp, "stale");
        await store.WriteAsync("c", "a", Bytes("2"), (await store.ReadAsync("c", "a"))!.Etag);
        Assert.True(File.Exists(othersTemp));
        Assert.False(File.Exists(ownTemp));
    }

    [Fact]
    public async Task No_temp_files_remain_after_writes()
    {
        var store = new LocalDirectoryStateStore(_dir.Path);
        var etag = await store.WriteAsync("c", "k", Bytes("1"), null);
        await store.WriteAsync("c", "k", Bytes("2"), etag);
        var directory = Path.GetDirectoryName(store.RecordPath("c", "k"))!;
        Assert.Equal(["k"], Directory.GetFiles(directory).Select(Path.GetFileName));
        Assert.Empty(Directory.GetFiles(Path.Combine(directory, ".tmp")));
    }

    [Fact]
    public void Keys_map_to_escaped_file_names_inside_the_container_directory()
    {
        var store = new LocalDirectoryStateStore(_dir.Path);
        // Hand-encoded: only a leading or trailing dot is escaped (0x2E), '/' = 0x2F, 'G' -> "^g".
        Assert.Equal(Path.Combine(_dir.Path, "grains", "~2E.~2F^grain"), store.RecordPath("grains", "../Grain"));
        Assert.Equal(Path.Combine(_dir.Path, "^my^grains", "k"), store.RecordPath("MyGrains", "k"));
    }

    [Fact]
    public async Task A_corrupt_record_file_is_reported_with_its_path()
    {
        var store = new LocalDirectoryStateStore(_dir.Path);
        await store.WriteAsync("c", "k", Bytes("good"), null);
        var path = store.RecordPath("c", "k");
        var bytes = await File.ReadAllBytesAsync(path);
        await File.WriteAllBytesAsync(path, bytes[..^2]); // truncated behind our back
        var ex = await Assert.ThrowsAsync<StorageUnavailableException>(() => store.ReadAsync("c", "k"));
        Assert.StartsWith($"state is corrupt: {path} (", ex.Message);   // the wording the client turns into exit 3
    }

    [Fact]
    public async Task A_lock_held_by_another_owner_times_out_with_the_lock_path()
    {
        var store = new LocalDirectoryStateStore(_dir.Path, lockTimeout: TimeSpan.FromMilliseconds(200));
        var path = store.RecordPath("c", "k");
        var lockPath = Path.Combine(Path.GetDirectoryName(path)!, ".locks", Path.GetFileName(path));
        Directory.CreateDirectory(Path.GetDirectoryName(lockPath)!);
        using (new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            var ex = await Assert.ThrowsAsync<StorageUnavailableException>(() => store.WriteAsync("c", "k", Bytes("x"), null));
            Assert.Contains(lockPath, ex.Message);
        }
        await store.WriteAsync("c", "k", Bytes("x"), null); // released: the write goes through
    }

    /// <summary>
    /// Another process (util-linux flock(1), which takes the same flock(2) lock .NET takes for FileShare.None) holds a
    /// key's lock: our write waits and then fails; once that process is gone the write goes through.
    /// </summary>
    [Fact]
    public async Task The_key_lock_excludes_other_processes()
    {
        if (!OperatingSystem.IsLinux()) return;
        var store = new LocalDirectoryStateStore(_dir.Path, lockTimeout: TimeSpan.FromMilliseconds(300));
        var path = store.RecordPath("c", "k");
        var lockPath = Path.Combine(Path.GetDirectoryName(path)!, ".locks", Path.GetFileName(path));
        Directory.CreateDirectory(Path.GetDirectoryName(lockPath)!);
        var start = new System.Diagnostics.ProcessStartInfo("flock", ["-x", lockPath, "-c", "echo locked; sleep 60"]) { RedirectStandardOutput = true };
        using var holder = System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException("could not start flock(1) (util-linux)");
        try
        {
            Assert.Equal("locked", await holder.StandardOutput.ReadLineAsync());
            await Assert.ThrowsAsync<StorageUnavailableException>(() => store.WriteAsync("c", "k", Bytes("x"), null));
        }
        finally
        {
            holder.Kill(entireProcessTree: true);
            await holder.WaitForExitAsync();
        }
        await store.WriteAsync("c", "k", Bytes("x"), null);
        Assert.NotNull(await store.ReadAsync("c", "k"));
    }

    [Fact]
    public async Task An_unwritable_root_is_reported_with_its_path()
    {
        var file = Path.Combine(_dir.Path, "a-file");
        await File.WriteAllTextAsync(file, "not a directory");
        var ex = Assert.Throws<StorageUnavailableException>(() => new LocalDirectoryStateStore(Path.Combine(file, "sub")));
        Assert.Contains(file, ex.Message);
    }
}
