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
