using AlignCluster.Hosting.Checkpoints;
using AlignCluster.Hosting.Tests.Infrastructure;

namespace AlignCluster.Hosting.Tests.Checkpoints;

public sealed class LocalCheckpointStorageTests : CheckpointStorageContract, IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly LocalCheckpointStorage _store;

    public LocalCheckpointStorageTests() => _store = new LocalCheckpointStorage(_folder.Path);

    protected override ICheckpointStorage Store => _store;

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Name_is_local_and_the_full_directory()
    {
        Assert.Equal("local:" + Path.GetFullPath(_folder.Path), _store.Name);
    }

    [Fact]
    public async Task Failed_write_leaves_no_temp_file_on_disk()
    {
        await Assert.ThrowsAsync<InvalidOperationException>(() => _store.WriteAsync("d/x.bin", async (stream, ct) =>
            {
                await stream.WriteAsync(new byte[1000], ct);
                throw new InvalidOperationException("stop");
            }));
        Assert.Empty(Directory.EnumerateFiles(_folder.Path, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Crash_leftover_temp_file_is_not_listed()
    {
        // What a process killed mid-write leaves behind: a hidden ".name.<id>.partial" next to the target.
        await _store.WriteAsync("c/x.bin", new byte[] { 1 });
        await File.WriteAllBytesAsync(Path.Combine(_folder.Path, "c", ".x.bin.0123.partial"), new byte[] { 9 });
        Assert.Equal(["c/x.bin"], await _store.ListAsync("").ToListAsync());
    }

    [Fact]
    public async Task Unusable_directory_raises_StorageUnavailable_naming_the_store()
    {
        // The store's directory is a regular file: nothing can be created under it.
        string file = Path.Combine(_folder.Path, "not-a-directory");
        await File.WriteAllTextAsync(file, "x");
        var store = new LocalCheckpointStorage(file);
        var e = await Assert.ThrowsAsync<StorageUnavailableException>(() => store.WriteAsync("k", new byte[] { 1 }));
        Assert.StartsWith($"storage unavailable: local:{file}: cannot create 'k'", e.Message);
        Assert.Equal(store.Name, e.Store);
    }
}
