using AlignCluster.Runtime.Testing;

namespace AlignCluster.Runtime.Tests.Core;

public class SmokeTests
{
    [Fact]
    public async Task CallsReachAGrainAndStateIsKept()
    {
        var options = new RuntimeOptions().AddGrain<CounterGrain>().AddStateStore("Default", new AlignCluster.Runtime.Storage.MemoryStateStore());
        await using var cluster = await InProcessCluster.StartAsync(options, 2);
        var counter = cluster.Client.GetGrain<ICounterGrain>("a");
        Assert.Equal(2, await counter.Add(2));
        Assert.Equal(5, await counter.Add(3));
        Assert.Equal(5, await counter.Get());
    }
}
