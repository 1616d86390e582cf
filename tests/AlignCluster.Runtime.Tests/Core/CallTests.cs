namespace AlignCluster.Runtime.Tests.Core;

public interface ISlowGrain : IGrainWithStringKey
{
    [ResponseTimeout("00:00:00.3")]
    Task WaitForever(CancellationToken cancellationToken);

    /// <summary>Waits until cancelled; the default (long) timeout applies.</summary>
    Task WaitUntilCancelled(CancellationToken cancellationToken);

    Task<string> Fail(string message);

    Task<int> CallPeer(IPeerGrain peer, int value);

    Task<byte[]> Reverse(byte[] bytes);
}

public interface IPeerGrain : IGrainWithGuidKey
{
    Task<int> Double(int value);
}

public interface INumberedGrain : IGrainWithIntegerKey
{
    Task<long> Key();
}

public sealed class SlowGrain : Grain, ISlowGrain
{
    public async Task WaitForever(CancellationToken cancellationToken) => await Observe(cancellationToken);

    public async Task WaitUntilCancelled(CancellationToken cancellationToken) => await Observe(cancellationToken);

    private async Task Observe(CancellationToken cancellationToken)
    {
        var key = this.GetPrimaryKeyString();
        Probe.Record(key, "started");
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Probe.Record(key, "cancelled");
            throw;
        }
    }

    public Task<string> Fail(string message) => throw new ArgumentException(message);

    public Task<int> CallPeer(IPeerGrain peer, int value) => peer.Double(value);

    public Task<byte[]> Reverse(byte[] bytes) => Task.FromResult(bytes.Reverse().ToArray());
}

public sealed class PeerGrain : Grain, IPeerGrain
{
    public Task<int> Double(int value) => Task.FromResult(2 * value);
}

public sealed class NumberedGrain : Grain, INumberedGrain
{
    public Task<long> Key() => Task.FromResult(this.GetPrimaryKeyLong());
}

public class CallTests
{
    [Fact]
    public async Task TimeoutNamesGrainAndMethodAndCancelsTheCallee()
    {
        const string key = "timeout";
        await using var cluster = await Fixture.StartAsync(2);
        var e = await Assert.ThrowsAsync<TimeoutException>(() => cluster.Client.GetGrain<ISlowGrain>(key).WaitForever(default));
        Assert.Contains($"{typeof(ISlowGrain).FullName}.WaitForever", e.Message);
        Assert.Contains($"{typeof(ISlowGrain).FullName}/{key}", e.Message);
        await Fixture.WaitUntil(() => Probe.Of(key).Contains("cancelled"), "callee saw its deadline");
    }

    [Fact]
    public async Task CallerCancellationReachesTheGrain()
    {
        const string key = "cancellation";
        await using var cluster = await Fixture.StartAsync(2);
        using var cts = new CancellationTokenSource();
        var call = cluster.Client.GetGrain<ISlowGrain>(key).WaitUntilCancelled(cts.Token);
        await Fixture.WaitUntil(() => Probe.Of(key).Contains("started"), "call started");
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        await Fixture.WaitUntil(() => Probe.Of(key).Contains("cancelled"), "callee saw the cancellation");
    }

    [Fact]
    public async Task ExceptionsCrossAsTheirTypeWithTheirMessage()
    {
        await using var cluster = await Fixture.StartAsync(1);
        var e = await Assert.ThrowsAsync<ArgumentException>(() => cluster.Client.GetGrain<ISlowGrain>("errors").Fail("bad input: x"));
        Assert.Equal("bad input: x", e.Message);
    }

    [Fact]
    public async Task ReferencesKeysAndRawBytesRoundTrip()
    {
        await using var cluster = await Fixture.StartAsync(2);
        var peer = cluster.Client.GetGrain<IPeerGrain>(Guid.NewGuid());
        Assert.Equal(42, await cluster.Client.GetGrain<ISlowGrain>("refs").CallPeer(peer, 21));
        Assert.Equal(-7L, await cluster.Client.GetGrain<INumberedGrain>(-7).Key());
        Assert.Equal(new byte[] { 3, 2, 1, 0 }, await cluster.Client.GetGrain<ISlowGrain>("refs").Reverse([0, 1, 2, 3]));
        Assert.Equal(cluster.Client.GetGrain<IPeerGrain>(peer.GetPrimaryKey()), peer);
    }
}
