using System.Buffers.Binary;
using System.Text;

namespace AlignCluster.Tests.Shared;

/// <summary>
/// Safetensors files built byte by byte from the format's definition (8-byte little-endian header length, JSON
/// header, data), independent of our writer, and corrupted ones with the problem each must be reported with.
/// </summary>
public static class SafeTensorsBytes
{
    /// <summary>Two F32 tensors: a = [1.5, -2] (bytes 0..8), b = [[0.25]] (bytes 8..12).</summary>
    public static byte[] Valid() =>
        File(
            """{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"""
                + """ "b":{"dtype":"F32","shape":[1,1],"data_offsets":[8,12]}}""",
            Floats(1.5f, -2f, 0.25f)
        );

    /// <summary>Length field + <paramref name="header"/> (UTF-8) + <paramref name="data"/>.</summary>
    public static byte[] File(string header, byte[] data)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + json.Length);
        return bytes;
    }

    /// <summary>Little-endian float32 bytes.</summary>
    public static byte[] Floats(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        return bytes;
    }

    /// <summary>
    /// Corrupt files and the problem each is reported with, after "safetensors file 'PATH': " (and "tensor 'NAME': "
    /// where one is named), as written by hand from the format: the messages a user sees.
    /// </summary>
    public static IEnumerable<(string Case, byte[] Bytes, string? Tensor, string Problem)> Corrupt()
    {
        byte[] valid = Valid();
        int headerLength = valid.Length - 8 - 12;
        yield return (
            "shorter than the length field",
            valid[..5],
            null,
            "truncated: 5 bytes, shorter than the 8-byte header length"
        );
        var huge = (byte[])valid.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(huge, 200UL << 20);
        yield return (
            "header length over the limit",
            huge,
            null,
            "header length 209715200 exceeds the 104857600-byte limit (not a safetensors file?)"
        );
        yield return (
            "cut inside the header",
            valid[..28],
            null,
            $"truncated: header claims {headerLength} bytes but the file has only 20 after the length field"
        );
        yield return ("header not JSON", File("{nope", []), null, "header is not valid JSON (");
        yield return ("header not an object", File("[1,2]", []), null, "header JSON must be an object, found Array");
        yield return (
            "unknown dtype",
            File("""{"a":{"dtype":"F8","shape":[2],"data_offsets":[0,2]}}""", new byte[2]),
            "a",
            "unsupported dtype 'F8' (supported: F32, F64, BF16, F16, I64, I32, U8, BOOL)"
        );
        yield return (
            "shape and offsets disagree",
            File("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", new byte[8]),
            "a",
            "byte count mismatch: dtype F32 with shape [3] needs 12 bytes but data_offsets [0, 8] span 8"
        );
        yield return (
            "overlapping tensors",
            File(
                """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"""
                    + """ "b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""",
                new byte[12]
            ),
            "b",
            "data_offsets [4, 12] overlap those of 'a' [0, 8]"
        );
        yield return (
            "cut inside the data",
            valid[..^4],
            "b",
            "data_offsets [8, 12] run past the end of the data section (8 bytes; file truncated?)"
        );
    }

    /// <summary>The full message for a corrupt case read from <paramref name="path"/>.</summary>
    public static string Message(string path, string? tensor, string problem) =>
        tensor is null
            ? $"safetensors file '{path}': {problem}"
            : $"safetensors file '{path}', tensor '{tensor}': {problem}";
}

/// <summary>A stream that can only be read forward and does not know its length, as a blob download is.</summary>
public sealed class ForwardOnlyStream(byte[] bytes) : Stream
{
    private readonly MemoryStream _inner = new(bytes);

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);

    public override void Flush() { }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
