using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using AlignCluster.Grains.Policy;

namespace AlignCluster.Grains.Checkpoints;

/// <summary>
/// float32 tensors ⇄ safetensors bytes (8-byte little-endian header length, JSON header with dtype / shape /
/// data_offsets, then raw little-endian data), in memory, for records of a state store.
/// </summary>
public static class SafeTensorsCodec
{
    public static byte[] Encode(IEnumerable<NamedTensor> tensors)
    {
        var list = tensors.ToList();
        var header = new Dictionary<string, object>();
        long offset = 0;
        foreach (var t in list)
        {
            long size = t.Values.Length * 4L;
            header[t.Name] = new { dtype = "F32", shape = t.Shape, data_offsets = new[] { offset, offset + size } };
            offset += size;
        }
        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        int padded = (json.Length + 7) / 8 * 8;
        var bytes = new byte[8 + padded + offset];
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), (ulong)padded);
        json.CopyTo(bytes, 8);
        bytes.AsSpan(8 + json.Length, padded - json.Length).Fill((byte)' ');
        long position = 8 + padded;
        foreach (var t in list)
        {
            MemoryMarshal.AsBytes(t.Values.AsSpan()).CopyTo(bytes.AsSpan((int)position));
            position += t.Values.Length * 4L;
        }
        return bytes;
    }

    public static List<NamedTensor> Decode(byte[] bytes, string source)
    {
        if (bytes.Length < 8) throw new InvalidDataException($"{source}: truncated safetensors (no header length)");
        long headerLength = (long)BitConverter.ToUInt64(bytes, 0);
        if (headerLength > bytes.Length - 8) throw new InvalidDataException($"{source}: header length {headerLength} runs past the end ({bytes.Length} bytes)");
        using var doc = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        var result = new List<NamedTensor>();
        foreach (var entry in doc.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__") continue;
            string dtype = entry.Value.GetProperty("dtype").GetString()!;
            if (dtype != "F32") throw new InvalidDataException($"{source}: tensor '{entry.Name}' is {dtype}; checkpoints hold F32");
            var shape = entry.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            long start = 8 + headerLength + offsets[0], end = 8 + headerLength + offsets[1];
            if (end > bytes.Length || end - start != shape.Aggregate(4L, (a, b) => a * b))
                throw new InvalidDataException($"{source}: tensor '{entry.Name}' data [{offsets[0]}, {offsets[1]}) does not fit shape [{string.Join(", ", shape)}] or the file");
            result.Add(new NamedTensor(entry.Name, shape, MemoryMarshal.Cast<byte, float>(bytes.AsSpan((int)start, (int)(end - start))).ToArray()));
        }
        return result;
    }
}
