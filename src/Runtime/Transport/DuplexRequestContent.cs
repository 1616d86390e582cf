using System.Net;

namespace AlignCluster.Runtime.Transport;

/// <summary>
/// Request content that hands its stream to the caller and stays open until <see cref="Complete"/>: the upstream half
/// of an HTTP/2 duplex call (HttpClient keeps writing while the response streams back).
/// </summary>
internal sealed class DuplexRequestContent : HttpContent
{
    private readonly TaskCompletionSource<Stream> _stream = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public DuplexRequestContent() => Headers.TryAddWithoutValidation("Content-Type", GrpcFraming.ContentType);

    /// <summary>The request body stream, once HttpClient has opened it.</summary>
    public Task<Stream> Stream => _stream.Task;

    /// <summary>Ends the request body (END_STREAM): the server sees a clean half-close.</summary>
    public void Complete() => _done.TrySetResult();

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        // Push the request HEADERS out now. SocketsHttpHandler queues the HEADERS of a request that has a body without
        // flushing them (it expects body bytes to follow), and flushes its connection buffer only when some later
        // frame asks for it: a DATA frame flush, a SETTINGS/PING ack, an RTT ping sent on receiving data. Our caller
        // writes nothing until SendAsync has returned the response headers, and the server cannot answer a request it
        // has not seen: the stream stalled until the next frame that flushed, typically the peer's keep-alive PING
        // (whose ACK carried our HEADERS along). A new stream on a quiet pooled connection (a reconnect) stalled every
        // time; a brand-new connection stalled when the server's SETTINGS were acked before our HEADERS were queued
        // (a race that a loaded machine loses). dotnet/runtime#96223; Grpc.Net.Client flushes here for the same reason.
        await stream.FlushAsync().ConfigureAwait(false);
        _stream.TrySetResult(stream);
        await _done.Task.ConfigureAwait(false);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        _stream.TrySetCanceled();
        _done.TrySetResult();
        base.Dispose(disposing);
    }
}
