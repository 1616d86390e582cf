using System.Buffers.Binary;
using System.Text.Json;

namespace AlignCluster.Models.SafeTensors;

/// <summary>
/// The head of a safetensors file: an 8-byte little-endian header length, then that many bytes of JSON
/// (<c>{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}</c>); the raw data follows.
/// The one parser of it: <see cref="SafeTensorsFile"/> reads it from a mapped file, the checkpoint store from a
/// stream. Every malformation throws <see cref="SafeTensorsException"/> naming the file, the tensor where one is
/// involved, and the cause; once parsed, every tensor's byte range lies in the data section and none overlap.
/// </summary>
public sealed class SafeTensorsHeader
{
    /// <summary>Bytes of the length field that starts the file.</summary>
    public const int LengthFieldBytes = 8;

    /// <summary>The longest header accepted (the reference implementation's limit).</summary>
    public const long MaxHeaderBytes = 100L << 20;

    private SafeTensorsHeader(long length, List<SafeTensorInfo> tensors, Dictionary<string, string> metadata)
    {
        Length = length;
        Tensors = tensors;
        Metadata = metadata;
    }

    /// <summary>Bytes of the JSON header.</summary>
    public long Length { get; }

    /// <summary>Where the data section starts in the file; tensor offsets count from here.</summary>
    public long DataStart => LengthFieldBytes + Length;

    /// <summary>Tensors in header order.</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors { get; }

    /// <summary>The optional <c>__metadata__</c> string map.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>
    /// The header length the file's first <see cref="LengthFieldBytes"/> bytes give, checked against the limit and
    /// against <paramref name="available"/>, the bytes the file has after the length field.
    /// </summary>
    /// <param name="path">Names the file in errors.</param>
    /// <param name="field">The file's first bytes (fewer than 8: the file is shorter than the length field).</param>
    public static long ReadLength(string path, ReadOnlySpan<byte> field, long available)
    {
        if (field.Length < LengthFieldBytes)
            throw new SafeTensorsException(
                path,
                null,
                $"truncated: {field.Length} bytes, shorter than the 8-byte header length"
            );
        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(field);
        if (length > (ulong)MaxHeaderBytes)
            throw new SafeTensorsException(
                path,
                null,
                $"header length {length} exceeds the {MaxHeaderBytes}-byte limit (not a safetensors file?)"
            );
        if ((long)length > available)
            throw new SafeTensorsException(
                path,
                null,
                $"truncated: header claims {length} bytes but the file has only {available} after the length field"
            );
        return (long)length;
    }

    /// <summary>
    /// Parses and validates the JSON header <paramref name="json"/> against the data section's length
    /// (<paramref name="dataLength"/>; null when unknown, as for a stream: the reader then finds truncation).
    /// </summary>
    public static SafeTensorsHeader Parse(string path, ReadOnlySpan<byte> json, long? dataLength)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json.ToArray());
        }
        catch (JsonException e)
        {
            throw new SafeTensorsException(path, null, $"header is not valid JSON ({e.Message})", e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new SafeTensorsException(
                    path,
                    null,
                    $"header JSON must be an object, found {doc.RootElement.ValueKind}"
                );
            var tensors = new List<SafeTensorInfo>();
            var metadata = new Dictionary<string, string>();
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    if (prop.Value.ValueKind != JsonValueKind.Object)
                        throw new SafeTensorsException(path, null, "__metadata__ must be an object of strings");
                    foreach (var m in prop.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String)
                            throw new SafeTensorsException(
                                path,
                                null,
                                $"__metadata__ value '{m.Name}' must be a string"
                            );
                        metadata[m.Name] = m.Value.GetString()!;
                    }
                    continue;
                }
                tensors.Add(ParseEntry(path, prop, dataLength));
            }
            CheckNoOverlap(path, tensors);
            return new SafeTensorsHeader(json.Length, tensors, metadata);
        }
    }

    /// <summary>
    /// Reads the length field and the header from <paramref name="stream"/>, leaving it at the start of the data
    /// section. A seekable stream's length bounds the tensors' offsets; otherwise the reader of the data finds a
    /// truncation (<see cref="Truncated"/>).
    /// </summary>
    public static async Task<SafeTensorsHeader> ReadAsync(Stream stream, string path, CancellationToken ct = default)
    {
        long? total = stream.CanSeek ? stream.Length - stream.Position : null;
        var field = new byte[LengthFieldBytes];
        int got = await stream.ReadAtLeastAsync(field, field.Length, throwOnEndOfStream: false, ct);
        long length = ReadLength(path, field.AsSpan(0, got), total is { } t ? t - LengthFieldBytes : long.MaxValue);
        var json = new byte[length];
        int read = await stream.ReadAtLeastAsync(json, json.Length, throwOnEndOfStream: false, ct);
        if (read < json.Length) // only a stream of unknown length gets here: ReadLength checked a known one
            throw new SafeTensorsException(
                path,
                null,
                $"truncated: header claims {length} bytes but the file has only {read} after the length field"
            );
        return Parse(path, json, total - LengthFieldBytes - length);
    }

    /// <summary>The error for a tensor whose data the file ends before (found while reading a stream).</summary>
    public static SafeTensorsException Truncated(string path, SafeTensorInfo tensor) =>
        new(
            path,
            tensor.Name,
            $"data_offsets [{tensor.Begin}, {tensor.End}] run past the end of the data section (file truncated?)"
        );

    private static SafeTensorInfo ParseEntry(string path, JsonProperty prop, long? dataLength)
    {
        string name = prop.Name;
        SafeTensorsException Bad(string problem) => new(path, name, problem);
        if (prop.Value.ValueKind != JsonValueKind.Object)
            throw Bad("header entry must be an object");
        var e = prop.Value;

        if (!e.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String)
            throw Bad("missing string field 'dtype'");
        if (!SafeTensorDTypes.TryParse(dt.GetString()!, out var dtype))
            throw Bad(
                $"unsupported dtype '{dt.GetString()}' "
                    + $"(supported: {string.Join(", ", Enum.GetNames<SafeTensorDType>())})"
            );

        if (!e.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array)
            throw Bad("missing array field 'shape'");
        var shape = new long[sh.GetArrayLength()];
        int i = 0;
        foreach (var d in sh.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long v) || v < 0)
                throw Bad($"shape entry {i} is not a non-negative integer");
            shape[i++] = v;
        }

        if (
            !e.TryGetProperty("data_offsets", out var off)
            || off.ValueKind != JsonValueKind.Array
            || off.GetArrayLength() != 2
        )
            throw Bad("missing field 'data_offsets' = [begin, end]");
        long begin = ReadOffset(off[0]),
            end = ReadOffset(off[1]);
        if (begin < 0 || end < 0)
            throw Bad("data_offsets must be non-negative integers");
        if (end < begin)
            throw Bad($"data_offsets [{begin}, {end}] end before begin");
        if (end > dataLength)
            throw Bad(
                $"data_offsets [{begin}, {end}] run past the end of the data section "
                    + $"({dataLength} bytes; file truncated?)"
            );

        long expected;
        try
        {
            expected = checked(SafeTensorDTypes.ElementCount(shape) * dtype.ElementSize());
        }
        catch (OverflowException)
        {
            throw Bad($"shape {SafeTensorDTypes.FormatShape(shape)} is too large");
        }
        if (expected != end - begin)
            throw Bad(
                $"byte count mismatch: dtype {dtype} with shape {SafeTensorDTypes.FormatShape(shape)} needs "
                    + $"{expected} bytes but data_offsets [{begin}, {end}] span {end - begin}"
            );
        return new SafeTensorInfo(name, dtype, shape, begin, end);
    }

    private static long ReadOffset(JsonElement e) =>
        e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out long v) ? v : -1;

    private static void CheckNoOverlap(string path, List<SafeTensorInfo> tensors)
    {
        SafeTensorInfo? previous = null;
        foreach (var t in tensors.Where(t => t.ByteCount > 0).OrderBy(t => t.Begin))
        {
            if (previous is not null && t.Begin < previous.End)
                throw new SafeTensorsException(
                    path,
                    t.Name,
                    $"data_offsets [{t.Begin}, {t.End}] overlap those of '{previous.Name}' "
                        + $"[{previous.Begin}, {previous.End}]"
                );
            previous = t;
        }
    }
}
