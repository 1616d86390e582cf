using System.Runtime.InteropServices;
using AlignCluster.Grains.Policy;
using AlignCluster.Models.SafeTensors;

namespace AlignCluster.Grains.Checkpoints;

/// <summary>
/// Reads float32 safetensors streams from the checkpoint store tensor by tensor, so a blob is never held whole. The
/// header is parsed and validated by the one safetensors header parser, <see cref="SafeTensorsHeader"/>; the streams
/// are written by the one safetensors writer, <see cref="SafeTensorsWriter"/>. Errors are
/// <see cref="SafeTensorsException"/>s naming the blob, the tensor and the cause.
/// </summary>
public static class SafeTensorsCodec
{
    /// <summary>The tensors of a safetensors stream; <paramref name="source"/> names it in errors.</summary>
    public static async Task<List<NamedTensor>> ReadAsync(Stream stream, string source, CancellationToken ct = default)
    {
        var header = await SafeTensorsHeader.ReadAsync(stream, source, ct);
        foreach (var t in header.Tensors)
            if (t.DType != SafeTensorDType.F32)
                throw new SafeTensorsException(source, t.Name, $"is {t.DType}; checkpoints hold F32");
        // Data is read in file order; the header's order need not be the file's. The header parser checked that no
        // two tensors overlap, so each one starts at or after the end of the one read before it.
        var result = new NamedTensor[header.Tensors.Count];
        long position = 0;
        foreach (var (t, i) in header.Tensors.Select((t, i) => (t, i)).OrderBy(p => p.t.Begin))
        {
            var values = new float[t.ByteCount / sizeof(float)];
            if (t.ByteCount > 0)
            {
                await SkipAsync(stream, t.Begin - position, source, t, ct);
                var bytes = MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
                if (await stream.ReadAtLeastAsync(bytes, bytes.Length, throwOnEndOfStream: false, ct) < bytes.Length)
                    throw SafeTensorsHeader.Truncated(source, t);
                bytes.AsSpan().CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
                position = t.End;
            }
            result[i] = new NamedTensor(t.Name, t.Shape, values);
        }
        return [.. result];
    }

    private static async Task SkipAsync(
        Stream stream,
        long count,
        string source,
        SafeTensorInfo next,
        CancellationToken ct
    )
    {
        var buffer = new byte[Math.Min(count, 1 << 16)];
        while (count > 0)
        {
            int read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(count, buffer.Length)), ct);
            if (read == 0)
                throw SafeTensorsHeader.Truncated(source, next);
            count -= read;
        }
    }
}
