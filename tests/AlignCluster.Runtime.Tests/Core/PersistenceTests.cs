using System.Text;
using AlignCluster.Runtime.Storage;

namespace AlignCluster.Runtime.Tests.Core;

public class PersistenceTests
{
    [Fact]
    public async Task StateSurvivesDeactivationAndIsStoredAsJson()
    {
        var store = new MemoryStateStore();
        await using var cluster = await Fixture.StartAsync(2, Fixture.Options(store));
        var grain = cluster.Client.GetGrain<ICounterGrain>("persist-roundtrip");
        Assert.Equal(4, await grain.Add(4));
        Assert.Equal(7, await grain.Add(3));
        await grain.Deactivate();
        await Fixture.WaitUntil(() => Probe.Of("persist-roundtrip").Contains("deactivate:ApplicationRequested"), "deactivation");
        Assert.Equal(7, await grain.Get());
        // The new activation read 7 from the store (its OnActivateAsync recorded it).
        Assert.Equal(["activate:0", "deactivate:ApplicationRequested", "activate:7"], Probe.Of("persist-roundtrip"));
        var record = await store.ReadAsync("grainstate", $"{typeof(ICounterGrain).FullName}/persist-roundtrip/counter");
        Assert.Equal("""{"Total":7}""", Encoding.UTF8.GetString(record!.Data.Span));
    }

    [Fact]
    public async Task LostEtagRaceSurfacesAsInconsistentStateException()
    {
        var store = new MemoryStateStore();
        await using var cluster = await Fixture.StartAsync(1, Fixture.Options(store));
        var grain = cluster.Client.GetGrain<ICounterGrain>("persist-conflict");
        await grain.Add(1);
        // Someone else writes the record behind the activation's back (its ETag is now stale).
        var key = $"{typeof(ICounterGrain).FullName}/persist-conflict/counter";
        var current = await store.ReadAsync("grainstate", key);
        await store.WriteAsync("grainstate", key, Encoding.UTF8.GetBytes("""{"Total":100}"""), current!.Etag);
        await Assert.ThrowsAsync<InconsistentStateException>(() => grain.Add(1));
        // Nothing was overwritten.
        Assert.Equal("""{"Total":100}""", Encoding.UTF8.GetString((await store.ReadAsync("grainstate", key))!.Data.Span));
    }

    [Fact]
    public async Task GracefulShutdownPersistsChangedState()
    {
        var store = new MemoryStateStore();
        var cluster = await Fixture.StartAsync(1, Fixture.Options(store));
        await cluster.Client.GetGrain<ICounterGrain>("persist-shutdown").AddWithoutWriting(9);
        await cluster.DisposeAsync();
        Assert.Contains("deactivate:ShuttingDown", Probe.Of("persist-shutdown"));
        await using var restarted = await Fixture.StartAsync(1, Fixture.Options(store));
        Assert.Equal(9, await restarted.Client.GetGrain<ICounterGrain>("persist-shutdown").Get());
    }

    [Fact]
    public async Task IdleActivationsAreDeactivated()
    {
        var options = Fixture.Options();
        options.CollectionAge = TimeSpan.FromMilliseconds(100);
        options.CollectionQuantum = TimeSpan.FromMilliseconds(50);
        await using var cluster = await Fixture.StartAsync(1, options);
        await cluster.Client.GetGrain<ICounterGrain>("persist-idle").AddWithoutWriting(2);
        await Fixture.WaitUntil(() => Probe.Of("persist-idle").Contains("deactivate:ActivationIdle"), "idle deactivation");
        Assert.Equal(0, cluster.Silos[0].ActivationCount);
        Assert.Equal(2, await cluster.Client.GetGrain<ICounterGrain>("persist-idle").Get());
    }
}
