using System.Net;
using System.Threading.Channels;
using AlignCluster.Runtime.Protos;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AlignCluster.Runtime.Transport;

/// <summary>Where and how a silo listens.</summary>
public sealed record TransportServerOptions
{
    /// <summary>Bind address; loopback unless an operator opens it up deliberately.</summary>
    public string Host { get; init; } = "127.0.0.1";
    /// <summary>Silo-to-silo port; 0 picks a free one.</summary>
    public int Port { get; init; }
    /// <summary>Optional separate client gateway port (same protocol and key); null = clients use <see cref="Port"/>.</summary>
    public int? GatewayPort { get; init; }
    public required ClusterKey ClusterKey { get; init; }
    /// <summary>Idle time after which Kestrel pings the peer (HTTP/2 PING) to detect a dead connection.</summary>
    public TimeSpan KeepAlivePingDelay { get; init; } = TimeSpan.FromSeconds(20);
}

/// <summary>
/// Kestrel serving the <c>SiloTransport</c> gRPC service over HTTP/2 (h2c): <c>Connect</c>, one long-lived duplex
/// stream per peer with responses correlated by id, and unary <c>Invoke</c>. Every call is refused with
/// UNAUTHENTICATED unless it carries the cluster key's bearer token.
/// </summary>
public sealed class TransportServer : IAsyncDisposable
{
    public const string ConnectPath = "/aligncluster.transport.SiloTransport/Connect";
    public const string InvokePath = "/aligncluster.transport.SiloTransport/Invoke";

    private readonly TransportServerOptions _options;
    private readonly IEnvelopeHandler _handler;
    private WebApplication? _app;
    private readonly CancellationTokenSource _stopping = new();

    public TransportServer(TransportServerOptions options, IEnvelopeHandler handler)
    {
        _options = options;
        _handler = handler;
    }

    /// <summary>The silo port actually bound (resolved when <see cref="TransportServerOptions.Port"/> is 0).</summary>
    public int Port { get; private set; }
    public int GatewayPort { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            var address = ParseBindAddress(_options.Host);
            kestrel.Listen(address, _options.Port, o => o.Protocols = HttpProtocols.Http2);
            if (_options.GatewayPort is int gateway && gateway != _options.Port)
                kestrel.Listen(address, gateway, o => o.Protocols = HttpProtocols.Http2);
            // A peer stream lives as long as the connection and may idle: no body size cap, no minimum data rate.
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Limits.MinRequestBodyDataRate = null;
            kestrel.Limits.MinResponseDataRate = null;
            kestrel.Limits.Http2.InitialConnectionWindowSize = 8 * 1024 * 1024;
            kestrel.Limits.Http2.InitialStreamWindowSize = 4 * 1024 * 1024;
            // Keep-alive only detects dead peers; it is not needed for progress. (A 1 s ping once masked a client-side
            // stall of new streams whose HEADERS HttpClient left unflushed; DuplexRequestContent fixes that.)
            kestrel.Limits.Http2.KeepAlivePingDelay = _options.KeepAlivePingDelay;
            kestrel.Limits.Http2.KeepAlivePingTimeout = TimeSpan.FromSeconds(20);
        });
        var app = builder.Build();
        app.MapPost(ConnectPath, ServeConnectAsync);
        app.MapPost(InvokePath, ServeInvokeAsync);
        app.MapFallback(ctx => RefuseAsync(ctx, GrpcStatus.Unimplemented, $"unknown method {ctx.Request.Path}"));
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        _app = app;

        var ports = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Select(a => new Uri(a).Port).ToList();
        Port = ports[0];
        GatewayPort = ports.Count > 1 ? ports[1] : Port;
    }

    private static IPAddress ParseBindAddress(string host) => host switch
    {
        "localhost" => IPAddress.Loopback,
        "*" or "0.0.0.0" => IPAddress.Any,
        _ => IPAddress.TryParse(host, out var ip) ? ip
            : throw new ArgumentException($"transport host '{host}' is not an IP address (use 127.0.0.1, 0.0.0.0 or an interface address)")
    };

    private bool Authorize(HttpContext ctx, out Task refusal)
    {
        refusal = Task.CompletedTask;
        if (!(ctx.Request.ContentType?.StartsWith(GrpcFraming.ContentType, StringComparison.Ordinal) ?? false))
        {
            refusal = RefuseAsync(ctx, GrpcStatus.InvalidArgument, "content-type must be application/grpc");
            return false;
        }
        if (!_options.ClusterKey.Accepts(ctx.Request.Headers.Authorization))
        {
            refusal = RefuseAsync(ctx, GrpcStatus.Unauthenticated, "missing or wrong cluster key");
            return false;
        }
        return true;
    }

    /// <summary>A gRPC "trailers-only" response: status in the headers, no body.</summary>
    private static Task RefuseAsync(HttpContext ctx, int status, string message)
    {
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = GrpcFraming.ContentType;
        ctx.Response.Headers["grpc-status"] = status.ToString();
        ctx.Response.Headers["grpc-message"] = Uri.EscapeDataString(message);
        return Task.CompletedTask;
    }

    private async Task ServeInvokeAsync(HttpContext ctx)
    {
        if (!Authorize(ctx, out var refusal)) { await refusal; return; }
        var request = await GrpcFraming.ReadAsync(ctx.Request.BodyReader, Envelope.Parser, ctx.RequestAborted);
        if (request is null) { await RefuseAsync(ctx, GrpcStatus.InvalidArgument, "Invoke expects exactly one request message"); return; }
        var response = await ServeOneAsync(request, ctx.RequestAborted) ?? new Envelope { CorrelationId = request.CorrelationId, Kind = EnvelopeKind.Response };
        ctx.Response.ContentType = GrpcFraming.ContentType;
        GrpcFraming.Write(ctx.Response.BodyWriter, response);
        await ctx.Response.BodyWriter.FlushAsync(ctx.RequestAborted);
        ctx.Response.AppendTrailer("grpc-status", "0");
    }

    private async Task ServeConnectAsync(HttpContext ctx)
    {
        if (!Authorize(ctx, out var refusal)) { await refusal; return; }
        // Peer streams never end on their own: stopping the server ends them (the peer sees the stream close).
        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, _stopping.Token);
        var aborted = lifetime.Token;
        ctx.Response.ContentType = GrpcFraming.ContentType;
        await ctx.Response.StartAsync(aborted);
        await ctx.Response.BodyWriter.FlushAsync(aborted);   // headers out now: the caller's SendAsync waits for them

        var outbox = Channel.CreateUnbounded<Envelope>(new UnboundedChannelOptions { SingleReader = true });
        var writing = WriteLoopAsync(outbox.Reader, ctx.Response.BodyWriter, aborted);
        string? badFrame = null;
        var running = new System.Collections.Concurrent.ConcurrentDictionary<ulong, CancellationTokenSource>();
        int pending = 1;   // the read loop's own share; the outbox completes when it and every served call are done
        void Release() { if (Interlocked.Decrement(ref pending) == 0) outbox.Writer.TryComplete(); }
        try
        {
            while (await GrpcFraming.ReadAsync(ctx.Request.BodyReader, Envelope.Parser, aborted) is { } request)
            {
                if (request.Kind == EnvelopeKind.Cancel)
                {
                    if (running.TryRemove(request.CorrelationId, out var cancelled)) cancelled.Cancel();
                    continue;
                }
                var callCancellation = CancellationTokenSource.CreateLinkedTokenSource(aborted);
                running[request.CorrelationId] = callCancellation;
                Interlocked.Increment(ref pending);
                _ = ServeIntoAsync(request, outbox.Writer, callCancellation.Token).ContinueWith(_ =>
                {
                    running.TryRemove(KeyValuePair.Create(request.CorrelationId, callCancellation));
                    callCancellation.Dispose();
                    Release();
                }, TaskScheduler.Default);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            // The peer went away; its pending calls fail on its side.
        }
        catch (InvalidDataException e) { badFrame = e.Message; }
        finally { Release(); }
        try
        {
            await writing;
            ctx.Response.AppendTrailer("grpc-status", badFrame is null ? "0" : GrpcStatus.Internal.ToString());
            if (badFrame is not null) ctx.Response.AppendTrailer("grpc-message", Uri.EscapeDataString(badFrame));
        }
        catch (Exception e) when (e is IOException or OperationCanceledException) { }
    }

    private async Task ServeIntoAsync(Envelope request, ChannelWriter<Envelope> outbox, CancellationToken aborted)
    {
        var response = await ServeOneAsync(request, aborted).ConfigureAwait(false);
        if (response is not null) outbox.TryWrite(response);
    }

    /// <summary>Runs the handler; an exception becomes an error RESPONSE so the caller never waits forever.</summary>
    private async Task<Envelope?> ServeOneAsync(Envelope request, CancellationToken aborted)
    {
        try
        {
            return await _handler.HandleAsync(request, aborted).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            if (request.Kind == EnvelopeKind.OneWay) return null;
            return new Envelope
            {
                CorrelationId = request.CorrelationId,
                Kind = EnvelopeKind.Response,
                Error = new CallError { Code = GrpcStatus.Internal, Message = e.Message, ExceptionType = e.GetType().FullName ?? "" },
            };
        }
    }

    private static async Task WriteLoopAsync(ChannelReader<Envelope> outbox, System.IO.Pipelines.PipeWriter body, CancellationToken aborted)
    {
        // Batch whatever is queued into one flush: under load many responses share one HTTP/2 DATA frame.
        while (await outbox.WaitToReadAsync(aborted).ConfigureAwait(false))
        {
            while (outbox.TryRead(out var envelope)) GrpcFraming.Write(body, envelope);
            await body.FlushAsync(aborted).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is null) return;
        _stopping.Cancel();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try { await _app.StopAsync(timeout.Token).ConfigureAwait(false); } catch (OperationCanceledException) { }
        await _app.DisposeAsync().ConfigureAwait(false);
        _app = null;
    }
}
