using System.Security.Cryptography;
using AlignCluster.Hosting.Checkpoints;

namespace AlignCluster.Hosting.Tests.Checkpoints;

/// <summary>
/// The behaviour every <see cref="ICheckpointStorage"/> must have, run once per store (local directory, Azurite
/// blobs). Reference values are the bytes the test itself wrote (random, seeded), compared byte for byte.
/// </summary>
public abstract class CheckpointStorageContract
{
    protected abstract ICheckpointStorage Store { get; }

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private async Task<byte[]?> ReadAllAsync(string key)
    {
        await using Stream? stream = await Store.OpenReadAsync(key);
        if (stream is null)
            return null;
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    private async Task<List<string>> ListAsync(string prefix)
    {
        List<string> keys = [];
        await foreach (string key in Store.ListAsync(prefix))
            keys.Add(key);
        return keys;
    }

    [Fact]
    public async Task Bytes_written_read_back_identical()
    {
        byte[] data = RandomBytes(300_000, seed: 1);
        await Store.WriteAsync("run-1/round-0/model.bin", data);
        Assert.Equal(data, await ReadAllAsync("run-1/round-0/model.bin"));
        Assert.True(await Store.ExistsAsync("run-1/round-0/model.bin"));
    }

    [Fact]
    public async Task Streamed_write_in_many_small_writes_reads_back_identical()
    {
        // Sync and async writes mixed, odd sizes: crosses block boundaries of a blob store with small blocks.
        byte[] data = RandomBytes(100_003, seed: 2);
        await Store.WriteAsync("streamed.bin", async (stream, ct) =>
        {
            for (int offset = 0; offset < data.Length; offset += 7_777)
            {
                int n = Math.Min(7_777, data.Length - offset);
                if (offset % 2 == 0)
                    await stream.WriteAsync(data.AsMemory(offset, n), ct);
                else
                    stream.Write(data, offset, n);
            }
        });
        Assert.Equal(data, await ReadAllAsync("streamed.bin"));
    }

    [Fact]
    public async Task Empty_file_exists_and_is_empty()
    {
        await Store.WriteAsync("empty", ReadOnlyMemory<byte>.Empty);
        Assert.True(await Store.ExistsAsync("empty"));
        byte[]? empty = await ReadAllAsync("empty");
        Assert.NotNull(empty);
        Assert.Empty(empty);
    }

    [Fact]
    public async Task Missing_key_reads_as_null_and_does_not_exist()
    {
        Assert.Null(await Store.OpenReadAsync("nope/missing.bin"));
        Assert.False(await Store.ExistsAsync("nope/missing.bin"));
    }

    [Fact]
    public async Task Writer_that_throws_leaves_the_previous_content_and_no_visible_leftovers()
    {
        byte[] old = RandomBytes(50_000, seed: 3);
        await Store.WriteAsync("ckpt/a.bin", old);
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            Store.WriteAsync("ckpt/a.bin", async (stream, ct) =>
            {
                await stream.WriteAsync(RandomBytes(60_000, seed: 4), ct);
                throw new InvalidOperationException("writer failed half way");
            })
        );
        Assert.Equal("writer failed half way", failure.Message);
        Assert.Equal(old, await ReadAllAsync("ckpt/a.bin"));
        Assert.Equal(["ckpt/a.bin"], await ListAsync("ckpt/"));

        // A new key whose writer fails does not appear at all.
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            Store.WriteAsync("ckpt/b.bin", (stream, ct) => throw new InvalidOperationException("no bytes"))
        );
        Assert.False(await Store.ExistsAsync("ckpt/b.bin"));
    }

    [Fact]
    public async Task Overwrite_replaces_the_whole_file()
    {
        await Store.WriteAsync("over.bin", RandomBytes(80_000, seed: 5));
        byte[] shorter = RandomBytes(1_000, seed: 6);
        await Store.WriteAsync("over.bin", shorter);
        Assert.Equal(shorter, await ReadAllAsync("over.bin"));
    }

    [Fact]
    public async Task List_returns_keys_under_a_prefix_in_ordinal_order()
    {
        // Ordinal, not culture: "B" (0x42) before "a" (0x61), "round-10" before "round-2".
        string[] keys = ["list/round-2/x", "list/round-10/x", "list/a", "list/B", "lister/other"];
        foreach (string key in keys)
            await Store.WriteAsync(key, new byte[] { 1 });
        Assert.Equal(["list/B", "list/a", "list/round-10/x", "list/round-2/x"], await ListAsync("list/"));
        Assert.Equal(["list/round-10/x", "list/round-2/x"], await ListAsync("list/round-"));
        Assert.Empty(await ListAsync("nothing-here/"));
    }

    [Fact]
    public async Task Delete_removes_and_tolerates_a_missing_key()
    {
        await Store.WriteAsync("del/x", new byte[] { 1, 2, 3 });
        await Store.DeleteAsync("del/x");
        Assert.False(await Store.ExistsAsync("del/x"));
        await Store.DeleteAsync("del/x");
        await Store.DeleteAsync("never/written");
    }

    [Theory]
    [InlineData("")]
    [InlineData("../escape")]
    [InlineData("a/../../b")]
    [InlineData("/absolute")]
    [InlineData("a//b")]
    [InlineData("back\\slash")]
    public async Task Keys_that_could_escape_the_store_are_rejected(string key)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Store.WriteAsync(key, new byte[] { 1 }));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.OpenReadAsync(key));
    }

    [Fact]
    public async Task Hash_of_a_large_streamed_file_matches()
    {
        // 24 MiB written in 1 MiB chunks without holding the whole file: the read-back hash is compared with the
        // hash computed while generating the same bytes.
        const int chunks = 24;
        using var expected = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await Store.WriteAsync("large.bin", async (stream, ct) =>
        {
            for (int i = 0; i < chunks; i++)
            {
                byte[] chunk = RandomBytes(1 << 20, seed: 100 + i);
                expected.AppendData(chunk);
                await stream.WriteAsync(chunk, ct);
            }
        });
        await using Stream? read = await Store.OpenReadAsync("large.bin");
        Assert.NotNull(read);
        Assert.Equal(expected.GetHashAndReset(), await SHA256.HashDataAsync(read));
    }
}
