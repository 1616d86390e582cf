using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AlignCluster.Runtime.Serialization;

/// <summary>
/// The encoding of a value whose JSON would otherwise carry bulk binary data (a <c>byte[]</c> member as base64, a
/// <c>float[]</c> as decimal text): the JSON keeps a segment number in the array's place and the array's raw bytes
/// follow the JSON, so a tensor costs its own size on the wire, bit-exact (NaN payloads and -0 included).
/// <code>
/// "\0ACB"  magic (JSON never starts with a NUL byte, so plain-JSON encodings stay readable as before)
/// int32    JSON length            (all integers little-endian)
/// int32    segment count N
/// int32×N  segment byte lengths
/// JSON, then the N segments back to back (array elements in little-endian byte order)
/// </code>
/// A value without such arrays is plain UTF-8 JSON, as before.
/// </summary>
internal static class BinaryContainer
{
    private static ReadOnlySpan<byte> Magic => "\0ACB"u8;
    private const int FixedHeader = 12;

    /// <summary>Builds the container from the JSON text and the arrays its converters set aside.</summary>
    public static byte[] Pack(ReadOnlySpan<byte> json, BinarySegments segments)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("binary segments assume a little-endian host");
        long total = FixedHeader + 4L * segments.Count + json.Length;
        for (int i = 0; i < segments.Count; i++) total += segments.LengthOf(i);
        if (total > Array.MaxLength) throw new InvalidOperationException($"a serialized value of {total} bytes is too large");
        var output = GC.AllocateUninitializedArray<byte>((int)total);
        var span = output.AsSpan();
        Magic.CopyTo(span);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], json.Length);
        BinaryPrimitives.WriteInt32LittleEndian(span[8..], segments.Count);
        int at = FixedHeader;
        for (int i = 0; i < segments.Count; i++, at += 4) BinaryPrimitives.WriteInt32LittleEndian(span[at..], segments.LengthOf(i));
        json.CopyTo(span[at..]);
        at += json.Length;
        for (int i = 0; i < segments.Count; i++) at += segments.CopyTo(i, span[at..]);
        return output;
    }

    /// <summary>True when <paramref name="data"/> is a container; splits it into its JSON and its segments.</summary>
    /// <exception cref="FormatException">The container's header does not match its length.</exception>
    public static bool TryUnpack(ReadOnlyMemory<byte> data, out ReadOnlyMemory<byte> json, out ReadOnlyMemory<byte>[] segments)
    {
        json = data;
        segments = [];
        var span = data.Span;
        if (span.Length < Magic.Length || !span[..Magic.Length].SequenceEqual(Magic)) return false;
        if (span.Length < FixedHeader) throw new FormatException($"binary container of {span.Length} bytes is shorter than its header");
        int jsonLength = BinaryPrimitives.ReadInt32LittleEndian(span[4..]);
        int count = BinaryPrimitives.ReadInt32LittleEndian(span[8..]);
        if (count < 0 || jsonLength < 0 || FixedHeader + 4L * count > span.Length)
            throw new FormatException($"binary container header is corrupt (json {jsonLength} bytes, {count} segments, {span.Length} bytes in all)");
        long at = FixedHeader + 4L * count;
        json = data.Slice((int)at, (int)Math.Min(jsonLength, span.Length - at));
        if (json.Length != jsonLength) throw new FormatException($"binary container is truncated inside its JSON ({span.Length} bytes)");
        at += jsonLength;
        segments = new ReadOnlyMemory<byte>[count];
        for (int i = 0; i < count; i++)
        {
            int length = BinaryPrimitives.ReadInt32LittleEndian(span[(FixedHeader + 4 * i)..]);
            if (length < 0 || at + length > span.Length)
                throw new FormatException($"binary container is truncated: segment {i} of {length} bytes at offset {at} runs past {span.Length} bytes");
            segments[i] = data.Slice((int)at, length);
            at += length;
        }
        if (at != span.Length) throw new FormatException($"binary container has {span.Length - at} bytes after its last segment");
        return true;
    }
}

/// <summary>
/// The arrays set aside while one value is serialized, or the segments available while one is deserialized. JSON
/// converters are synchronous and run on the serializing thread, so the scope is thread-static.
/// </summary>
internal sealed class BinarySegments
{
    [ThreadStatic] private static BinarySegments? t_current;
    [ThreadStatic] private static BinarySegments? t_spare;

    private readonly List<(Array? Array, ReadOnlyMemory<byte> Bytes, int Length)> _written = [];
    private ReadOnlyMemory<byte>[] _read = [];
    private BinarySegments? _outer;

    /// <summary>The scope of the serialization running on this thread, if any.</summary>
    public static BinarySegments? Current => t_current;

    public int Count => _written.Count;

    /// <summary>Opens a scope for one value; dispose with <see cref="End"/>. Reuses a per-thread instance.</summary>
    public static BinarySegments Begin(ReadOnlyMemory<byte>[]? readable = null)
    {
        var scope = t_spare ?? new BinarySegments();
        t_spare = null;
        scope._outer = t_current;
        scope._read = readable ?? [];
        t_current = scope;
        return scope;
    }

    public void End()
    {
        t_current = _outer;
        _outer = null;
        _written.Clear();
        _read = [];
        t_spare = this;
    }

    /// <summary>Sets aside the elements of an array of unmanaged values; returns its segment number.</summary>
    public int Add(Array array, int byteLength)
    {
        _written.Add((array, default, byteLength));
        return _written.Count - 1;
    }

    /// <summary>Sets aside a byte buffer; returns its segment number.</summary>
    public int Add(ReadOnlyMemory<byte> bytes)
    {
        _written.Add((null, bytes, bytes.Length));
        return _written.Count - 1;
    }

    public int LengthOf(int index) => _written[index].Length;

    public int CopyTo(int index, Span<byte> destination)
    {
        var (array, bytes, length) = _written[index];
        if (array is null) bytes.Span.CopyTo(destination);
        else MemoryMarshal.CreateReadOnlySpan(ref MemoryMarshal.GetArrayDataReference(array), length).CopyTo(destination);
        return length;
    }

    /// <summary>The bytes of segment <paramref name="index"/> of the value being read.</summary>
    public ReadOnlyMemory<byte> Segment(int index) => (uint)index < (uint)_read.Length
        ? _read[index]
        : throw new System.Text.Json.JsonException($"binary segment {index} does not exist (the value has {_read.Length})");

    /// <summary>Size in bytes of one element of an unmanaged array type.</summary>
    public static int ElementSize<T>() where T : unmanaged => Unsafe.SizeOf<T>();
}
