using System.Text;
using System.Text.Json;

namespace AlignCluster.Models.SafeTensors;

/// <summary>
/// A tensor to be written: its header fields plus a callback that streams exactly <see cref="ByteCount"/>
/// little-endian bytes (so large tensors are written without first gathering them into one array).
/// </summary>
public sealed record SafeTensorEntry(
    string Name,
    SafeTensorDType DType,
    long[] Shape,
    long ByteCount,
    Action<Stream> WriteData
)
{
    /// <summary>An entry over bytes already in memory.</summary>
    public static SafeTensorEntry FromBytes(
        string name,
        SafeTensorDType dtype,
        long[] shape,
        ReadOnlyMemory<byte> data
    ) => new(name, dtype, shape, data.Length, s => s.Write(data.Span));
}

/// <summary>Writes safetensors files atomically: everything goes to a temp file beside the target, then a
/// rename.</summary>
public static class SafeTensorsWriter
{
    /// <summary>
    /// Writes <paramref name="tensors"/> (in the given order) to <paramref name="path"/>. An existing file is replaced
    /// only once the new one is complete. Throws <see cref="SafeTensorsException"/> on a duplicate name or a byte
    /// count that does not match dtype and shape.
    /// </summary>
    public static void Write(
        string path,
        IEnumerable<SafeTensorEntry> tensors,
        IReadOnlyDictionary<string, string>? metadata = null
    )
    {
        path = Path.GetFullPath(path);
        var list = tensors.ToList();
        var header = BuildHeader(path, list, metadata);
        AtomicFile.Write(path, stream => WriteBody(stream, path, header, list));
    }

    /// <summary>
    /// Writes <paramref name="tensors"/> as a safetensors stream to <paramref name="stream"/> (a checkpoint store's
    /// blob, say), tensor by tensor; <paramref name="source"/> names it in errors. The caller owns atomicity.
    /// </summary>
    public static void Write(
        Stream stream,
        string source,
        IEnumerable<SafeTensorEntry> tensors,
        IReadOnlyDictionary<string, string>? metadata = null
    )
    {
        var list = tensors.ToList();
        WriteBody(stream, source, BuildHeader(source, list, metadata), list);
    }

    private static void WriteBody(Stream stream, string source, byte[] header, List<SafeTensorEntry> tensors)
    {
        Span<byte> length = stackalloc byte[8];
        BitConverter.TryWriteBytes(length, (ulong)header.Length);
        stream.Write(length);
        stream.Write(header);
        foreach (var t in tensors)
        {
            var counting = new CountingStream(stream);
            t.WriteData(counting);
            if (counting.Written != t.ByteCount)
                throw new SafeTensorsException(
                    source,
                    t.Name,
                    $"data writer produced {counting.Written} bytes, expected {t.ByteCount}"
                );
        }
    }

    /// <summary>The JSON header, padded with spaces to a multiple of 8 bytes so the data section stays
    /// aligned.</summary>
    private static byte[] BuildHeader(
        string path,
        List<SafeTensorEntry> tensors,
        IReadOnlyDictionary<string, string>? metadata
    )
    {
        var seen = new HashSet<string>();
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata)
                    json.WriteString(k, v);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in tensors)
            {
                if (t.Name == "__metadata__" || !seen.Add(t.Name))
                    throw new SafeTensorsException(path, t.Name, "duplicate or reserved tensor name");
                long expected = checked(SafeTensorDTypes.ElementCount(t.Shape) * t.DType.ElementSize());
                if (expected != t.ByteCount)
                    throw new SafeTensorsException(
                        path,
                        t.Name,
                        $"byte count mismatch: dtype {t.DType} with shape {SafeTensorDTypes.FormatShape(t.Shape)} needs {expected} bytes, got {t.ByteCount}"
                    );
                json.WriteStartObject(t.Name);
                json.WriteString("dtype", t.DType.HeaderName());
                json.WriteStartArray("shape");
                foreach (var d in t.Shape)
                    json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + t.ByteCount);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += t.ByteCount;
            }
            json.WriteEndObject();
        }
        int padded = (int)((buffer.Length + 7) / 8 * 8);
        while (buffer.Length < padded)
            buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }
}

/// <summary>Write-to-temp-then-rename, so a reader never sees a half-written file and a crash loses nothing
/// saved.</summary>
public static class AtomicFile
{
    /// <summary>Writes a file through <paramref name="write"/>, flushes it to disk, then renames it over <paramref
    /// name="path"/>.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            try
            {
                File.Delete(temp);
            }
            catch (IOException)
            { /* best effort: the temp name never shadows real data */
            }
            throw;
        }
    }

    /// <summary>Atomically writes UTF-8 text.</summary>
    public static void WriteText(string path, string text) => Write(path, s => s.Write(Encoding.UTF8.GetBytes(text)));
}
