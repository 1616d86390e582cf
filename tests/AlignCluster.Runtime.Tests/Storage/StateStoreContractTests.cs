using System.Text;
using AlignCluster.Runtime.Storage;

using static AlignCluster.Runtime.Tests.Storage.TestBytes;

namespace AlignCluster.Runtime.Tests.Storage;

/// <summary>
/// The <see cref="IStateStore"/> contract, run against every provider (one subclass each). Expected values
/// follow from the contract text in IStateStore.cs, not from any implementation.
/// </summary>
public abstract class StateStoreContractTests
{
    /// <summary>A fresh, empty store (or a store plus a container name nobody else uses).</summary>
    protected abstract IStateStore Store { get; }

    /// <summary>A container name unique to this test instance, so tests sharing one backend do not interfere.</summary>
    protected string Container { get; } = "c" + Guid.NewGuid().ToString("N")[..12];

    private static string Text(StoredRecord? r) => Encoding.UTF8.GetString(Assert.IsType<StoredRecord>(r).Data.Span);

    [Fact]
    public async Task Read_of_a_missing_record_is_null()
    {
        Assert.Null(await Store.ReadAsync(Container, "nothing-here"));
    }

    [Fact]
    public async Task Write_then_read_returns_the_bytes_and_the_returned_etag()
    {
        var etag = await Store.WriteAsync(Container, "k", Bytes("hello"), expectedEtag: null);
        var record = await Store.ReadAsync(Container, "k");
        Assert.Equal("hello", Text(record));
        Assert.Equal(etag, record!.Etag);
    }

    [Fact]
    public async Task Empty_data_is_a_record()
    {
        var etag = await Store.WriteAsync(Container, "empty", ReadOnlyMemory<byte>.Empty, null);
        var record = await Store.ReadAsync(Container, "empty");
        Assert.NotNull(record);
        Assert.Equal(0, record.Data.Length);
        Assert.Equal(etag, record.Etag);
    }

    [Fact]
    public async Task Create_only_write_fails_when_the_record_exists_and_changes_nothing()
    {
        var etag = await Store.WriteAsync(Container, "k", Bytes("first"), null);
        var ex = await Assert.ThrowsAsync<InconsistentStateException>(() => Store.WriteAsync(Container, "k", Bytes("second"), null));
        Assert.Contains("k", ex.Message);
        var record = await Store.ReadAsync(Container, "k");
        Assert.Equal("first", Text(record));
        Assert.Equal(etag, record!.Etag);
    }

    [Fact]
    public async Task Write_with_a_stale_etag_fails_and_with_the_current_one_succeeds()
    {
        var first = await Store.WriteAsync(Container, "k", Bytes("v1"), null);
        var second = await Store.WriteAsync(Container, "k", Bytes("v2"), first);
        Assert.NotEqual(first, second);
        await Assert.ThrowsAsync<InconsistentStateException>(() => Store.WriteAsync(Container, "k", Bytes("lost"), first));
        Assert.Equal("v2", Text(await Store.ReadAsync(Container, "k")));
        var third = await Store.WriteAsync(Container, "k", Bytes("v3"), second);
        Assert.Equal(third, (await Store.ReadAsync(Container, "k"))!.Etag);
    }

    [Fact]
    public async Task Write_with_an_etag_to_a_missing_record_fails()
    {
        var etag = await Store.WriteAsync(Container, "k", Bytes("v1"), null);
        await Store.DeleteAsync(Container, "k", null);
        await Assert.ThrowsAsync<InconsistentStateException>(() => Store.WriteAsync(Container, "k", Bytes("v2"), etag));
        Assert.Null(await Store.ReadAsync(Container, "k"));
    }

    [Fact]
    public async Task An_etag_is_not_reused_after_delete_and_recreate()
    {
        var first = await Store.WriteAsync(Container, "k", Bytes("same"), null);
        await Store.DeleteAsync(Container, "k", first);
        var second = await Store.WriteAsync(Container, "k", Bytes("same"), null);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public async Task Delete_honours_its_etag_condition()
    {
        var etag = await Store.WriteAsync(Container, "k", Bytes("v1"), null);
        var newer = await Store.WriteAsync(Container, "k", Bytes("v2"), etag);
        await Assert.ThrowsAsync<InconsistentStateException>(() => Store.DeleteAsync(Container, "k", etag));
        Assert.Equal("v2", Text(await Store.ReadAsync(Container, "k")));
        await Store.DeleteAsync(Container, "k", newer);
        Assert.Null(await Store.ReadAsync(Container, "k"));
    }

    [Fact]
    public async Task Deleting_a_missing_record_is_not_an_error()
    {
        await Store.DeleteAsync(Container, "never-written", null);
        await Store.DeleteAsync(Container, "never-written", "some-etag");
        Assert.Null(await Store.ReadAsync(Container, "never-written"));
    }

    [Fact]
    public async Task Unconditional_delete_removes_the_record()
    {
        await Store.WriteAsync(Container, "k", Bytes("v"), null);
        await Store.DeleteAsync(Container, "k", null);
        Assert.Null(await Store.ReadAsync(Container, "k"));
        Assert.Empty(await ListAsync(""));
    }

    [Fact]
    public async Task List_returns_keys_with_the_prefix_in_ordinal_order()
    {
        // Ordinal (UTF-16 code unit) order, worked out by hand: 'B' (0x42) < 'a' (0x61) < 'b'; "a/" < "a/1" < "a/10" < "a/2" < "ab".
        string[] keys = ["b", "a/2", "ab", "a/10", "B", "a/1", "a/"];
        foreach (var key in keys) await Store.WriteAsync(Container, key, Bytes(key), null);
        Assert.Equal(["B", "a/", "a/1", "a/10", "a/2", "ab", "b"], await ListAsync(""));
        Assert.Equal(["a/", "a/1", "a/10", "a/2"], await ListAsync("a/"));
        Assert.Equal(["a/1", "a/10"], await ListAsync("a/1"));
        Assert.Empty(await ListAsync("zzz"));
    }

    [Fact]
    public async Task Containers_are_separate()
    {
        var other = Container + "x";
        await Store.WriteAsync(Container, "k", Bytes("mine"), null);
        await Store.WriteAsync(other, "k", Bytes("theirs"), null);
        Assert.Equal("mine", Text(await Store.ReadAsync(Container, "k")));
        Assert.Equal("theirs", Text(await Store.ReadAsync(other, "k")));
        Assert.Equal(["k"], await ListAsync(""));
    }

    public static TheoryData<string> OddKeys => new()
    {
        "grain/Coordinator/run-1", ".", "..", "../../etc/passwd", "a\\b", "trailing.", ".hidden", "with space", "tab\tand\nnewline",
        "Ünïcödé/日本語", "emoji 😀", "percent%2F~7E^x", "CON", "nul.txt", "Key", "key", "?*:|<>\"", new string('x', 512), new string('é', 300),
    };

    [Theory]
    [MemberData(nameof(OddKeys))]
    public async Task Any_key_round_trips_through_write_read_and_list(string key)
    {
        await Store.WriteAsync(Container, key, Bytes("v:" + key), null);
        Assert.Equal("v:" + key, Text(await Store.ReadAsync(Container, key)));
        Assert.Equal([key], await ListAsync(""));
        Assert.Equal([key], await ListAsync(key));
    }

    [Fact]
    public async Task Keys_differing_only_in_case_are_different_records()
    {
        await Store.WriteAsync(Container, "Key", Bytes("upper"), null);
        await Store.WriteAsync(Container, "key", Bytes("lower"), null);
        Assert.Equal("upper", Text(await Store.ReadAsync(Container, "Key")));
        Assert.Equal("lower", Text(await Store.ReadAsync(Container, "key")));
        Assert.Equal(["Key", "key"], await ListAsync(""));
    }

    [Fact]
    public async Task Invalid_names_are_rejected_with_the_cause()
    {
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => Store.WriteAsync(Container, "", Bytes("x"), null));
        Assert.Contains("key", ex.Message);
        ex = await Assert.ThrowsAsync<ArgumentException>(() => Store.ReadAsync("bad/container", "k"));
        Assert.Contains("bad/container", ex.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => Store.WriteAsync(Container, new string('x', 513), Bytes("x"), null));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.WriteAsync(Container, "lone\uD800", Bytes("x"), null));
    }

    [Fact]
    public async Task The_store_copies_the_callers_buffer()
    {
        var buffer = Bytes("original");
        await Store.WriteAsync(Container, "k", buffer, null);
        buffer[0] = (byte)'X';
        Assert.Equal("original", Text(await Store.ReadAsync(Container, "k")));
    }

    /// <summary>
    /// N writers per round read the same ETag and race their conditional writes: a compare-and-swap has exactly one
    /// winner; every loser sees InconsistentStateException; the stored value is the winner's.
    /// </summary>
    [Fact]
    public async Task Concurrent_conditional_writers_have_exactly_one_winner_per_round()
    {
        const int writers = 8, rounds = 10;
        var etag = await Store.WriteAsync(Container, "counter", Bytes("start"), null);
        for (var round = 0; round < rounds; round++)
        {
            var expected = etag;
            var start = new TaskCompletionSource();
            var attempts = Enumerable.Range(0, writers).Select(async w =>
            {
                await start.Task;
                try { return (Writer: w, Etag: await Store.WriteAsync(Container, "counter", Bytes($"r{round}w{w}"), expected)); }
                catch (InconsistentStateException) { return (Writer: w, Etag: (string?)null); }
            }).ToList();
            start.SetResult();
            var results = await Task.WhenAll(attempts.Select(a => Task.Run(() => a)));
            var winners = results.Where(r => r.Etag is not null).ToList();
            Assert.Single(winners);
            var record = await Store.ReadAsync(Container, "counter");
            Assert.Equal($"r{round}w{winners[0].Writer}", Text(record));
            Assert.Equal(winners[0].Etag, record!.Etag);
            etag = winners[0].Etag!;
        }
    }

    /// <summary>Concurrent create-only writes of a fresh key: exactly one creates it.</summary>
    [Fact]
    public async Task Concurrent_create_only_writers_have_exactly_one_winner()
    {
        var attempts = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            try { await Store.WriteAsync(Container, "fresh", Bytes($"w{w}"), null); return true; }
            catch (InconsistentStateException) { return false; }
        }));
        var won = await Task.WhenAll(attempts);
        Assert.Equal(1, won.Count(w => w));
    }

    protected async Task<List<string>> ListAsync(string prefix)
    {
        var keys = new List<string>();
        await foreach (var key in Store.ListAsync(Container, prefix)) keys.Add(key);
        return keys;
    }
}

public sealed class MemoryStateStoreContractTests : StateStoreContractTests
{
    protected override IStateStore Store { get; } = new MemoryStateStore();
}
