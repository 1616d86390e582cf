namespace AlignCluster.Runtime.Tests.Core;

public interface IHoldGrain : IGrainWithStringKey
{
    /// <summary>Records "start:tag", waits for the probe gate of the grain, records "end:tag".</summary>
    Task Hold(string tag);

    [AlwaysInterleave]
    Task<int> Peek();
}

public sealed class TurnBasedGrain : Grain, IHoldGrain
{
    private int _inside;

    public async Task Hold(string tag)
    {
        var key = this.GetPrimaryKeyString();
        _inside++;
        Probe.Record(key, $"start:{tag}:{_inside}");
        await Probe.Gate(key);
        Probe.Record(key, $"end:{tag}");
        _inside--;
    }

    public Task<int> Peek() => Task.FromResult(_inside);
}

public interface IReentrantHoldGrain : IGrainWithStringKey
{
    Task Hold(string tag);
}

[Reentrant]
public sealed class ReentrantGrain : Grain, IReentrantHoldGrain
{
    private int _inside;
    private int _threadsInside;

    public async Task Hold(string tag)
    {
        var key = this.GetPrimaryKeyString();
        _inside++;
        // Reentrancy interleaves at awaits but never runs grain code on two threads at once.
        if (Interlocked.Increment(ref _threadsInside) != 1) Probe.Record(key, "parallel!");
        Probe.Record(key, $"start:{tag}:{_inside}");
        Interlocked.Decrement(ref _threadsInside);
        await Probe.Gate(key);
        if (Interlocked.Increment(ref _threadsInside) != 1) Probe.Record(key, "parallel!");
        Probe.Record(key, $"end:{tag}");
        _inside--;
        Interlocked.Decrement(ref _threadsInside);
    }
}

public class ConcurrencyTests
{
    [Fact]
    public async Task TurnBasedGrainRunsOneRequestAtATime()
    {
        await using var cluster = await Fixture.StartAsync(1);
        const string key = "turns";
        var grain = cluster.Client.GetGrain<IHoldGrain>(key);
        var first = grain.Hold("a");
        await Fixture.WaitUntil(() => Probe.Of(key).Length == 1, "first request started");
        var second = grain.Hold("b");
        // While "a" holds its turn, "b" must not start; an [AlwaysInterleave] method still runs meanwhile.
        Assert.Equal(1, await grain.Peek());
        await Task.Delay(200);
        Assert.Equal(["start:a:1"], Probe.Of(key));
        Probe.Open(key);
        await Task.WhenAll(first, second);
        // Each request saw itself alone inside the grain (":1") and they did not interleave.
        Assert.Equal(["start:a:1", "end:a", "start:b:1", "end:b"], Probe.Of(key));
    }

    [Fact]
    public async Task ReentrantGrainInterleavesAtAwaitsOnOneThread()
    {
        await using var cluster = await Fixture.StartAsync(1);
        const string key = "reentrant";
        var grain = cluster.Client.GetGrain<IReentrantHoldGrain>(key);
        var first = grain.Hold("a");
        await Fixture.WaitUntil(() => Probe.Of(key).Length == 1, "first request started");
        var second = grain.Hold("b");
        // "b" starts while "a" is still waiting inside the grain: two requests inside at once.
        await Fixture.WaitUntil(() => Probe.Of(key).Length == 2, "second request started while the first waits");
        Assert.Equal(["start:a:1", "start:b:2"], Probe.Of(key));
        Probe.Open(key);
        await Task.WhenAll(first, second);
        Assert.DoesNotContain("parallel!", Probe.Of(key));
        Assert.Equal(4, Probe.Of(key).Length);
    }
}
