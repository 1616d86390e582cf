using AlignCluster.Runtime.Protos;
using AlignCluster.Runtime.Transport;
using Google.Protobuf;

namespace AlignCluster.Runtime.Tests.Net;

/// <summary>
/// Regression for the new-connection stall: the first call on a freshly opened HTTP/2 connection must not wait for
/// a keep-alive PING to push it out. Both sides keep-alive at 60 s here, so a call that depends on a PING to get
/// its frames sent would take ≥ 60 s; the 10 s bound is generous for a loaded machine and still catches it.
/// </summary>
public sealed class NewConnectionTests
{
    private static readonly ClusterKey Key = new("new-connection-test-key-0123456789");
    private static readonly TimeSpan LongKeepAlive = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task The_first_call_on_each_fresh_connection_completes_without_a_keep_alive_ping()
    {
        var handler = new EchoHandler();
        await using var server = new TransportServer(new TransportServerOptions { ClusterKey = Key, KeepAlivePingDelay = LongKeepAlive }, handler);
        await server.StartAsync();
        // Several fresh clients, each with its own HTTP/2 connection: the stall was a race on the first frames
        // of a connection, so one connection alone could pass by luck.
        for (int i = 0; i < 8; i++)
        {
            await using var client = new TransportClient(Key, keepAlivePingDelay: LongKeepAlive);
            var request = new Envelope { Kind = EnvelopeKind.Request, TargetGrain = $"echo/{i}", MethodName = "Echo", Payload = ByteString.CopyFrom(1, 2, (byte)i) };
            var response = await client.SendAsync($"127.0.0.1:{server.Port}", request).WaitAsync(Bound);
            Assert.Equal(new byte[] { (byte)i, 2, 1 }, response.Payload.ToByteArray());
        }
        Assert.Equal(8, handler.Served);
    }

    [Fact]
    public async Task A_new_stream_on_an_already_open_connection_completes_without_a_keep_alive_ping()
    {
        var handler = new EchoHandler();
        await using var server = new TransportServer(new TransportServerOptions { ClusterKey = Key, KeepAlivePingDelay = LongKeepAlive }, handler);
        await server.StartAsync();
        await using var client = new TransportClient(Key, keepAlivePingDelay: LongKeepAlive);
        var endpoint = $"127.0.0.1:{server.Port}";
        // Closing the peer stream keeps the pooled HTTP/2 connection: every reconnect below opens a new stream on it,
        // which is what a silo does after a peer's stream broke. No other frame travels that could carry it out.
        for (int i = 0; i < 4; i++)
        {
            var request = new Envelope { Kind = EnvelopeKind.Request, TargetGrain = $"echo/{i}", MethodName = "Echo", Payload = ByteString.CopyFrom(9, (byte)i) };
            var response = await client.SendAsync(endpoint, request).WaitAsync(Bound);
            Assert.Equal(new byte[] { (byte)i, 9 }, response.Payload.ToByteArray());
            await client.DisconnectAsync(endpoint);
            await Task.Delay(300);   // the old stream's last frames (and HttpClient's RTT pings) are done: the connection is quiet
        }
        Assert.Equal(4, handler.Served);
    }

    [Fact]
    public async Task A_refusal_on_a_fresh_connection_arrives_without_a_keep_alive_ping()
    {
        var handler = new EchoHandler();
        await using var server = new TransportServer(new TransportServerOptions { ClusterKey = Key, KeepAlivePingDelay = LongKeepAlive }, handler);
        await server.StartAsync();
        for (int i = 0; i < 4; i++)
        {
            await using var intruder = new TransportClient(new ClusterKey("wrong-key-for-this-cluster-0123"), keepAlivePingDelay: LongKeepAlive);
            var request = new Envelope { Kind = EnvelopeKind.Request, TargetGrain = "echo/1", MethodName = "Echo" };
            await Assert.ThrowsAsync<ClusterAuthenticationException>(() => intruder.SendAsync($"127.0.0.1:{server.Port}", request).WaitAsync(Bound));
        }
        Assert.Equal(0, handler.Served);
    }
}
