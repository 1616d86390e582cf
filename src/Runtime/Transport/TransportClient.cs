using System.Collections.Concurrent;
using System.Net;
using AlignCluster.Runtime.Protos;

namespace AlignCluster.Runtime.Transport;

/// <summary>
/// Outbound side of a silo or client: keeps one <see cref="PeerConnection"/> (one HTTP/2 duplex stream) per peer
/// endpoint, opening it on first use and replacing it after it breaks.
/// </summary>
public sealed class TransportClient : IAsyncDisposable
{
    private readonly ClusterKey _key;
    private readonly HttpMessageInvoker _http;
    private readonly ConcurrentDictionary<string, Lazy<Task<PeerConnection>>> _peers = new();

    /// <param name="keepAlivePingDelay">Idle time after which the client pings a peer connection (HTTP/2 PING); 20 s by default.</param>
    public TransportClient(ClusterKey key, TimeSpan? connectTimeout = null, TimeSpan? keepAlivePingDelay = null)
    {
        _key = key;
        _http = new HttpMessageInvoker(new SocketsHttpHandler
        {
            ConnectTimeout = connectTimeout ?? TimeSpan.FromSeconds(5),
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            KeepAlivePingDelay = keepAlivePingDelay ?? TimeSpan.FromSeconds(20),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(20),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            InitialHttp2StreamWindowSize = 4 * 1024 * 1024,
            AutomaticDecompression = DecompressionMethods.None,
            UseProxy = false,
        });
    }

    /// <summary>Sends a request to <paramref name="endpoint"/> ("host:port") and awaits the response envelope.</summary>
    public async Task<Envelope> SendAsync(string endpoint, Envelope request, CancellationToken cancellationToken = default)
    {
        var connection = await GetConnectionAsync(endpoint, cancellationToken).ConfigureAwait(false);
        return await connection.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends a ONE_WAY envelope (connecting if needed); false when the peer's stream is broken.</summary>
    public async Task<bool> SendOneWayAsync(string endpoint, Envelope message, CancellationToken cancellationToken = default)
    {
        var connection = await GetConnectionAsync(endpoint, cancellationToken).ConfigureAwait(false);
        return connection.SendOneWay(message);
    }

    /// <summary>The live connection to a peer, opened on demand; a failed or broken one is replaced on the next call.</summary>
    public async Task<PeerConnection> GetConnectionAsync(string endpoint, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var lazy = _peers.GetOrAdd(endpoint, e => new Lazy<Task<PeerConnection>>(
                () => PeerConnection.ConnectAsync(_http, e, _key, CancellationToken.None)));
            PeerConnection connection;
            try
            {
                connection = await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                _peers.TryRemove(KeyValuePair.Create(endpoint, lazy));   // next call retries the connect
                throw;
            }
            if (!connection.IsBroken) return connection;
            if (_peers.TryRemove(KeyValuePair.Create(endpoint, lazy))) _ = connection.DisposeAsync().AsTask();
        }
    }

    /// <summary>Closes the stream to a peer (e.g. once membership declared it dead).</summary>
    public async Task DisconnectAsync(string endpoint)
    {
        if (_peers.TryRemove(endpoint, out var lazy) && lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully)
            await lazy.Value.Result.DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var endpoint in _peers.Keys.ToList()) await DisconnectAsync(endpoint).ConfigureAwait(false);
        _http.Dispose();
    }
}
