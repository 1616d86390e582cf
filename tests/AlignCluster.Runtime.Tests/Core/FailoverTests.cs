namespace AlignCluster.Runtime.Tests.Core;

public class FailoverTests
{
    [Fact]
    public async Task GrainOfAKilledSiloReactivatesElsewhereWithItsState()
    {
        const string key = "failover";
        await using var cluster = await Fixture.StartAsync(3);
        var grain = cluster.Client.GetGrain<ICounterGrain>(key);
        Assert.Equal(5, await grain.Add(5));
        var host = await grain.WhereAmI();
        var victim = cluster.Silos.Single(s => s.Address.ToString() == host);
        await cluster.KillSiloAsync(victim);

        Assert.Equal(5, await grain.Get());
        var newHost = await grain.WhereAmI();
        Assert.NotEqual(host, newHost);
        Assert.Contains(cluster.Silos, s => s.Address.ToString() == newHost);
        // The killed silo ran no deactivation: the state came from the store.
        Assert.Equal(["activate:0", "activate:5"], Probe.Of(key));
    }

    [Fact]
    public async Task GracefullyStoppedSiloHandsItsGrainsOver()
    {
        const string key = "failover-graceful";
        await using var cluster = await Fixture.StartAsync(2);
        var grain = cluster.Client.GetGrain<ICounterGrain>(key);
        await grain.AddWithoutWriting(3);
        var host = await grain.WhereAmI();
        await cluster.StopSiloAsync(cluster.Silos.Single(s => s.Address.ToString() == host));
        Assert.Equal(3, await grain.Get());
        Assert.NotEqual(host, await grain.WhereAmI());
    }
}
