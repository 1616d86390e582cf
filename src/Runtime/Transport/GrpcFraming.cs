using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Google.Protobuf;

namespace AlignCluster.Runtime.Transport;

/// <summary>
/// gRPC's length-prefixed message framing: 1 byte "compressed" flag (always 0 here), 4 bytes big-endian length,
/// then the protobuf bytes. We write it ourselves because Grpc.AspNetCore / Grpc.Net.Client do not restore here.
/// </summary>
public static class GrpcFraming
{
    /// <summary>Largest message accepted (tensors travel in payloads, so this is generous).</summary>
    public const int MaxMessageBytes = 256 * 1024 * 1024;

    public const string ContentType = "application/grpc";

    /// <summary>Appends one framed message to <paramref name="writer"/> without flushing.</summary>
    public static void Write(PipeWriter writer, IMessage message)
    {
        int length = message.CalculateSize();
        var span = writer.GetSpan(5 + length);
        span[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(span.Slice(1, 4), (uint)length);
        message.WriteTo(span.Slice(5, length));
        writer.Advance(5 + length);
    }

    /// <summary>
    /// Reads the next framed message; null at a clean end of stream (no partial frame pending).
    /// </summary>
    /// <exception cref="InvalidDataException">A truncated frame, a compressed frame or an oversized length.</exception>
    public static async ValueTask<T?> ReadAsync<T>(PipeReader reader, MessageParser<T> parser, CancellationToken cancellationToken)
        where T : class, IMessage<T>
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (TryParse(ref buffer, parser, out var message))
            {
                reader.AdvanceTo(buffer.Start);
                return message;
            }
            if (result.IsCompleted || result.IsCanceled)
            {
                bool partial = !buffer.IsEmpty;
                reader.AdvanceTo(buffer.End);
                if (partial) throw new InvalidDataException($"gRPC stream ended inside a frame ({buffer.Length} bytes left over)");
                return null;
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static bool TryParse<T>(ref ReadOnlySequence<byte> buffer, MessageParser<T> parser, out T? message)
        where T : class, IMessage<T>
    {
        message = null;
        if (buffer.Length < 5) return false;
        Span<byte> header = stackalloc byte[5];
        buffer.Slice(0, 5).CopyTo(header);
        if (header[0] != 0) throw new InvalidDataException("compressed gRPC frames are not supported (flag byte was 1)");
        uint length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        if (length > MaxMessageBytes) throw new InvalidDataException($"gRPC frame of {length} bytes exceeds the {MaxMessageBytes}-byte limit");
        if (buffer.Length < 5 + length) return false;
        message = parser.ParseFrom(buffer.Slice(5, length));
        buffer = buffer.Slice(5 + length);
        return true;
    }
}
