using AlignCluster.Runtime.Protos;
using AlignCluster.Runtime.Transport;
using Google.Protobuf;

namespace AlignCluster.Runtime.Tests.Net;

public sealed class TransportTests : IAsyncLifetime
{
    private static readonly ClusterKey Key = new("transport-test-key-0123456789");
    private readonly EchoHandler _handler = new();
    private TransportServer _server = null!;
    private string Endpoint => $"127.0.0.1:{_server.Port}";

    public async Task InitializeAsync()
    {
        _server = new TransportServer(new TransportServerOptions { ClusterKey = Key }, _handler);
        await _server.StartAsync();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static Envelope Request(string method, byte[] payload, string target = "echo/1") => new()
    {
        Kind = EnvelopeKind.Request, TargetGrain = target, InterfaceName = "IEcho", MethodName = method,
        Payload = ByteString.CopyFrom(payload),
    };

    [Fact]
    public async Task Concurrent_requests_on_one_stream_each_get_their_own_response_with_binary_payload_intact()
    {
        await using var client = new TransportClient(Key);
        // Every request carries a distinct payload (all 256 byte values plus its index), so a mixed-up
        // correlation or a lossy (text/base64) payload path shows up as a wrong reversed payload.
        var calls = Enumerable.Range(0, 200).Select(async i =>
        {
            var payload = Enumerable.Range(0, 256).Select(b => (byte)b).Append((byte)i).Append((byte)(i >> 8)).ToArray();
            var response = await client.SendAsync(Endpoint, Request("Echo", payload, $"echo/{i}"));
            var expected = payload.Reverse().ToArray();
            Assert.Equal(expected, response.Payload.ToByteArray());
            Assert.Equal($"echo/{i}", response.Headers["echo-target"]);
        });
        await Task.WhenAll(calls);
        var first = await client.GetConnectionAsync(Endpoint);
        var again = await client.GetConnectionAsync(Endpoint);
        Assert.Same(first, again);   // one duplex stream per peer, reused
    }

    [Fact]
    public async Task A_handler_exception_comes_back_as_an_error_response()
    {
        await using var client = new TransportClient(Key);
        var response = await client.SendAsync(Endpoint, Request("Fail", [1]));
        Assert.Equal(GrpcStatus.Internal, response.Error.Code);
        Assert.Contains("boom from the handler", response.Error.Message);
    }

    [Fact]
    public async Task A_wrong_cluster_key_is_refused_before_any_call_is_served()
    {
        await using var client = new TransportClient(new ClusterKey("some-other-cluster-key-xyz"));
        var error = await Assert.ThrowsAsync<ClusterAuthenticationException>(() => client.SendAsync(Endpoint, Request("Echo", [1])));
        Assert.Contains("refused", error.Message);
        Assert.Equal(0, _handler.Served);
    }

    [Fact]
    public async Task Pending_calls_fail_with_SiloUnavailable_when_the_silo_goes_away()
    {
        await using var client = new TransportClient(Key);
        var hanging = client.SendAsync(Endpoint, Request("Hang", [1]));
        await WaitUntil(() => _handler.Served == 1);
        await _server.DisposeAsync();
        var error = await Assert.ThrowsAsync<PeerUnavailableException>(() => hanging.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains($"127.0.0.1:", error.Message);
        await Assert.ThrowsAsync<PeerUnavailableException>(() => client.SendAsync(Endpoint, Request("Echo", [1])));
    }

    [Fact]
    public async Task A_cancelled_call_stops_waiting()
    {
        await using var client = new TransportClient(Key);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.SendAsync(Endpoint, Request("Hang", [1]), cts.Token));
        var ok = await client.SendAsync(Endpoint, Request("Echo", [7, 8]));   // the stream is still usable
        Assert.Equal(new byte[] { 8, 7 }, ok.Payload.ToByteArray());
    }

    internal static async Task WaitUntil(Func<bool> condition, int seconds = 30, string what = "condition")
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{what} not reached within {seconds} s");
            await Task.Delay(20);
        }
    }
}
