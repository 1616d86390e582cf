using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using AlignCluster.Grains.Policy;

namespace AlignCluster.Grains.Checkpoints;

/// <summary>
/// Reads float32 safetensors streams from the checkpoint store (8-byte little-endian header length, JSON header with
/// dtype / shape / data_offsets, then raw little-endian data), tensor by tensor, so a blob is never held whole. They
/// are
/// written by the one safetensors writer, <see cref="Models.SafeTensors.SafeTensorsWriter"/>.
/// </summary>
public static class SafeTensorsCodec
{
    /// <summary>The tensors of a safetensors stream; <paramref name="source"/> names it in errors.</summary>
    public static async Task<List<NamedTensor>> ReadAsync(Stream stream, string source, CancellationToken ct = default)
    {
        var lengthBytes = new byte[8];
        if (await stream.ReadAtLeastAsync(lengthBytes, 8, throwOnEndOfStream: false, ct) < 8)
            throw new InvalidDataException($"{source}: truncated safetensors (no header length)");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > 100_000_000)
            throw new InvalidDataException($"{source}: header length {headerLength} is implausible");
        var headerBytes = new byte[headerLength];
        if (
            await stream.ReadAtLeastAsync(headerBytes, headerBytes.Length, throwOnEndOfStream: false, ct)
            < headerBytes.Length
        )
            throw new InvalidDataException($"{source}: header length {headerLength} runs past the end");
        using var doc = JsonDocument.Parse(headerBytes);
        var entries = new List<(string Name, long[] Shape, long Start, long End)>();
        foreach (var entry in doc.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__")
                continue;
            string dtype = entry.Value.GetProperty("dtype").GetString()!;
            if (dtype != "F32")
                throw new InvalidDataException($"{source}: tensor '{entry.Name}' is {dtype}; checkpoints hold F32");
            var shape = entry.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            if (offsets[1] - offsets[0] != shape.Aggregate(4L, (a, b) => a * b))
                throw new InvalidDataException(
                    $"{source}: tensor '{entry.Name}' data [{offsets[0]}, {offsets[1]}) does not fit shape [{string.Join(", ", shape)}]"
                );
            entries.Add((entry.Name, shape, offsets[0], offsets[1]));
        }
        // Data is read in file order; the header's order need not be the file's.
        var result = new NamedTensor[entries.Count];
        long position = 0;
        foreach (var (e, i) in entries.Select((e, i) => (e, i)).OrderBy(p => p.e.Start))
        {
            if (e.Start < position)
                throw new InvalidDataException($"{source}: tensor '{e.Name}' overlaps another");
            await SkipAsync(stream, e.Start - position, source, ct);
            var values = new float[(e.End - e.Start) / 4];
            var bytes = MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
            if (await stream.ReadAtLeastAsync(bytes, bytes.Length, throwOnEndOfStream: false, ct) < bytes.Length)
                throw new InvalidDataException($"{source}: tensor '{e.Name}' runs past the end of the file");
            bytes.AsSpan().CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
            result[i] = new NamedTensor(e.Name, e.Shape, values);
            position = e.End;
        }
        return [.. result];
    }

    private static async Task SkipAsync(Stream stream, long count, string source, CancellationToken ct)
    {
        var buffer = new byte[Math.Min(count, 1 << 16)];
        while (count > 0)
        {
            int read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(count, buffer.Length)), ct);
            if (read == 0)
                throw new InvalidDataException($"{source}: truncated safetensors");
            count -= read;
        }
    }
}
