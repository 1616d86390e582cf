using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Threading.Channels;
using AlignCluster.Runtime.Protos;

namespace AlignCluster.Runtime.Transport;

/// <summary>
/// The client half of one long-lived <c>Connect</c> stream to a peer: requests go up the request body, responses
/// come back down the response body and complete the caller's task by correlation id. When the stream breaks,
/// every pending call fails with <see cref="PeerUnavailableException"/> naming the peer.
/// </summary>
public sealed class PeerConnection : IAsyncDisposable
{
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource<Envelope>> _pending = new();
    private readonly Channel<Envelope> _outbox = Channel.CreateUnbounded<Envelope>(new UnboundedChannelOptions { SingleReader = true });
    private readonly DuplexRequestContent _content;
    private readonly HttpResponseMessage _response;
    private readonly CancellationTokenSource _shutdown = new();
    private long _nextCorrelationId;
    private volatile string? _brokenReason;
    private Task _readLoop = Task.CompletedTask;
    private Task _writeLoop = Task.CompletedTask;

    /// <summary>"host:port" of the peer.</summary>
    public string Endpoint { get; }

    /// <summary>True once the stream has ended or failed; the owner replaces the connection.</summary>
    public bool IsBroken => _brokenReason is not null;

    private PeerConnection(string endpoint, DuplexRequestContent content, HttpResponseMessage response)
    {
        Endpoint = endpoint;
        _content = content;
        _response = response;
    }

    /// <summary>Opens the duplex stream; fails fast with a clear error when the peer is down or refuses our key.</summary>
    public static async Task<PeerConnection> ConnectAsync(HttpMessageInvoker http, string endpoint, ClusterKey key, CancellationToken cancellationToken)
    {
        var content = new DuplexRequestContent();
        var request = new HttpRequestMessage(HttpMethod.Post, $"http://{endpoint}{TransportServer.ConnectPath}")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        request.Headers.TryAddWithoutValidation("te", "trailers");
        request.Headers.TryAddWithoutValidation("authorization", key.AuthorizationHeader);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            content.Dispose();
            throw new PeerUnavailableException($"cannot connect to silo at {endpoint}: {e.Message}", e);
        }
        if (response.Headers.TryGetValues("grpc-status", out var statusValues))
        {
            // Trailers-only response: the server refused the call before streaming.
            int status = int.Parse(statusValues.First());
            string message = response.Headers.TryGetValues("grpc-message", out var m) ? Uri.UnescapeDataString(m.First()) : "";
            response.Dispose();
            content.Dispose();
            if (status == GrpcStatus.Unauthenticated)
                throw new ClusterAuthenticationException($"silo at {endpoint} refused the connection: {message}");
            throw new PeerUnavailableException($"silo at {endpoint} refused the connection: grpc-status {status} {message}");
        }
        var connection = new PeerConnection(endpoint, content, response);
        var requestStream = await content.Stream.WaitAsync(cancellationToken).ConfigureAwait(false);
        var responseStream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        connection._writeLoop = connection.WriteLoopAsync(PipeWriter.Create(requestStream));
        connection._readLoop = connection.ReadLoopAsync(PipeReader.Create(responseStream));
        return connection;
    }

    /// <summary>Sends a REQUEST or PING and awaits its RESPONSE. The correlation id is assigned here.</summary>
    public Task<Envelope> SendAsync(Envelope request, CancellationToken cancellationToken = default)
    {
        if (_brokenReason is { } reason) return Task.FromException<Envelope>(Unavailable(reason, sent: false));
        ulong id = (ulong)Interlocked.Increment(ref _nextCorrelationId);
        request.CorrelationId = id;
        var completion = new TaskCompletionSource<Envelope>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = completion;
        if (!_outbox.Writer.TryWrite(request))
        {
            _pending.TryRemove(id, out _);
            return Task.FromException<Envelope>(Unavailable(_brokenReason ?? "connection closed", sent: false));
        }
        if (_brokenReason is { } lateReason && _pending.TryRemove(id, out _))   // broke between the checks
            return Task.FromException<Envelope>(Unavailable(lateReason, sent: true));
        if (!cancellationToken.CanBeCanceled) return completion.Task;
        return WithCancellation(id, completion, cancellationToken);
    }

    private async Task<Envelope> WithCancellation(ulong id, TaskCompletionSource<Envelope> completion, CancellationToken cancellationToken)
    {
        await using var registration = cancellationToken.Register(() =>
        {
            if (!_pending.TryRemove(id, out var c)) return;
            c.TrySetCanceled(cancellationToken);
            _outbox.Writer.TryWrite(new Envelope { Kind = EnvelopeKind.Cancel, CorrelationId = id });   // the silo cancels the handler
        }).ConfigureAwait(false);
        return await completion.Task.ConfigureAwait(false);
    }

    /// <summary>Queues a ONE_WAY envelope; false when the connection is already broken.</summary>
    public bool SendOneWay(Envelope message) => _brokenReason is null && _outbox.Writer.TryWrite(message);

    private async Task WriteLoopAsync(PipeWriter body)
    {
        try
        {
            while (await _outbox.Reader.WaitToReadAsync(_shutdown.Token).ConfigureAwait(false))
            {
                while (_outbox.Reader.TryRead(out var envelope)) GrpcFraming.Write(body, envelope);
                await body.FlushAsync(_shutdown.Token).ConfigureAwait(false);
            }
            _content.Complete();
        }
        catch (Exception e)
        {
            Break($"sending failed: {e.Message}");
        }
    }

    private async Task ReadLoopAsync(PipeReader body)
    {
        string reason = "the silo closed the stream";
        try
        {
            while (await GrpcFraming.ReadAsync(body, Envelope.Parser, _shutdown.Token).ConfigureAwait(false) is { } response)
            {
                if (_pending.TryRemove(response.CorrelationId, out var completion)) completion.TrySetResult(response);
            }
            if (_response.TrailingHeaders.TryGetValues("grpc-status", out var status) && status.First() != "0")
                reason = $"the silo ended the stream with grpc-status {status.First()}";
        }
        catch (Exception e)
        {
            reason = e is OperationCanceledException && _shutdown.IsCancellationRequested ? "connection disposed" : $"connection lost: {e.Message}";
        }
        Break(reason);
    }

    private void Break(string reason)
    {
        if (Interlocked.CompareExchange(ref _brokenReason, reason, null) is not null) return;
        _outbox.Writer.TryComplete();
        foreach (var id in _pending.Keys)
            if (_pending.TryRemove(id, out var completion)) completion.TrySetException(Unavailable(reason, sent: true));
    }

    private PeerUnavailableException Unavailable(string reason, bool sent) => new($"silo at {Endpoint}: {reason}", requestSent: sent);

    public async ValueTask DisposeAsync()
    {
        _outbox.Writer.TryComplete();
        try { await _writeLoop.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false); } catch (Exception) { }
        _shutdown.Cancel();
        try { await _readLoop.ConfigureAwait(false); } catch (Exception) { }
        Break("connection disposed");
        _response.Dispose();
        _content.Dispose();
        _shutdown.Dispose();
    }
}
