using System.Diagnostics;
using AlignCluster.Hosting.Checkpoints;
using AlignCluster.Hosting.Tests.Infrastructure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace AlignCluster.Hosting.Tests.Checkpoints;

/// <summary>The contract against a real blob service (Azurite), with 64 KiB blocks so files span many blocks.</summary>
public sealed class AzureBlobCheckpointStorageTests : CheckpointStorageContract, IClassFixture<Azurite>
{
    private const int BlockSize = 64 << 10;
    private readonly Azurite _azurite;
    private readonly BlobContainerClient _container;
    private readonly AzureBlobCheckpointStorage _store;

    public AzureBlobCheckpointStorageTests(Azurite azurite)
    {
        _azurite = azurite;
        // A fresh container per test: tests share the Azurite but not their keys.
        _container = new BlobContainerClient(azurite.ConnectionString, "ckpt-" + Guid.NewGuid().ToString("N"));
        _store = new AzureBlobCheckpointStorage(_container, BlockSize);
    }

    protected override ICheckpointStorage Store => _store;

    [Fact]
    public void Name_is_azureblob_account_and_container()
    {
        Assert.Equal($"azureblob:devstoreaccount1/{_container.Name}", _store.Name);
    }

    [Fact]
    public async Task A_file_is_committed_as_one_block_per_block_size()
    {
        // 10 full blocks and a 1-byte tail = 11 committed blocks; nothing left uncommitted.
        byte[] data = new byte[10 * BlockSize + 1];
        new Random(7).NextBytes(data);
        await _store.WriteAsync("blocks.bin", data);
        BlockList blocks = (await _container.GetBlockBlobClient("blocks.bin").GetBlockListAsync()).Value;
        Assert.Equal(11, blocks.CommittedBlocks.Count());
        Assert.Empty(blocks.UncommittedBlocks);
        Assert.Equal(data.LongLength, blocks.CommittedBlocks.Sum(b => b.SizeLong));
    }

    [Fact]
    public async Task Staged_blocks_of_an_unfinished_write_are_invisible()
    {
        byte[] old = [1, 2, 3];
        await _store.WriteAsync("atomic.bin", old);
        var staged = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        Task write = _store.WriteAsync("atomic.bin", async (stream, ct) =>
        {
            await stream.WriteAsync(new byte[3 * BlockSize], ct); // 3 blocks staged
            staged.SetResult();
            await release.Task;
            throw new InvalidOperationException("crash before commit");
        });
        await staged.Task;
        BlockList midway = (await _container.GetBlockBlobClient("atomic.bin").GetBlockListAsync()).Value;
        Assert.Equal(3, midway.UncommittedBlocks.Count());
        await using (Stream? read = await _store.OpenReadAsync("atomic.bin"))
        {
            using var copy = new MemoryStream();
            await read!.CopyToAsync(copy);
            Assert.Equal(old, copy.ToArray());
        }
        release.SetResult();
        await Assert.ThrowsAsync<InvalidOperationException>(() => write);
    }

    [Fact]
    public async Task Unreachable_account_raises_StorageUnavailable_naming_the_store()
    {
        // Azurite's ports with nothing behind them: a port we bound and released (connection refused).
        int deadPort = FreeClosedPort();
        string connection = _azurite.ConnectionString.Replace($":{_azurite.BlobPort}/", $":{deadPort}/");
        var store = AzureBlobCheckpointStorage.FromConnectionString(connection, "unreachable");
        var e = await Assert.ThrowsAsync<StorageUnavailableException>(() => store.WriteAsync("k", new byte[] { 1 }));
        Assert.Equal("azureblob:devstoreaccount1/unreachable", e.Store);
        Assert.StartsWith(
            "storage unavailable: azureblob:devstoreaccount1/unreachable: cannot create the container",
            e.Message
        );
        var read = await Assert.ThrowsAsync<StorageUnavailableException>(() => store.OpenReadAsync("k"));
        Assert.Contains("cannot read 'k'", read.Message);
    }

    private static int FreeClosedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
