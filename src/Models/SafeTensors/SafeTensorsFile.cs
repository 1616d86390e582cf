using System.IO.MemoryMappedFiles;
using System.Text.Json;

namespace AlignCluster.Models.SafeTensors;

/// <summary>Read access to named tensors held in one or more safetensors files.</summary>
public interface ISafeTensorSource : IDisposable
{
    /// <summary>Names of all tensors.</summary>
    IReadOnlyCollection<string> Names { get; }

    /// <summary>True when a tensor of that name exists.</summary>
    bool Contains(string name);

    /// <summary>Header entry of a tensor; throws <see cref="SafeTensorsException"/> naming the tensor when
    /// absent.</summary>
    SafeTensorInfo Info(string name);

    /// <summary>The file a tensor lives in (for error messages).</summary>
    string FileOf(string name);

    /// <summary>The tensor's raw little-endian bytes, straight from the mapped file (no copy). Valid until
    /// disposal.</summary>
    ReadOnlySpan<byte> Bytes(string name);
}

/// <summary>
/// One safetensors file, memory-mapped read-only: an 8-byte little-endian header length, a JSON header
/// (<c>{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}</c>), then the raw data.
/// Opening validates the whole header, so every later access is in bounds.
/// </summary>
public sealed unsafe class SafeTensorsFile : ISafeTensorSource
{
    private const long MaxHeaderBytes = 100L << 20; // the reference implementation's limit

    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _data; // start of the data section
    private readonly Dictionary<string, SafeTensorInfo> _tensors;
    private bool _disposed;

    /// <summary>Path of the file.</summary>
    public string Path { get; }

    /// <summary>The optional <c>__metadata__</c> string map.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Tensors in header order.</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors { get; }

    public IReadOnlyCollection<string> Names => _tensors.Keys;

    private SafeTensorsFile(
        string path,
        MemoryMappedFile? map,
        MemoryMappedViewAccessor? view,
        byte* data,
        List<SafeTensorInfo> tensors,
        Dictionary<string, string> metadata
    )
    {
        Path = path;
        _map = map;
        _view = view;
        _data = data;
        Tensors = tensors;
        _tensors = tensors.ToDictionary(t => t.Name);
        Metadata = metadata;
    }

    /// <summary>Maps and validates a file. Throws <see cref="SafeTensorsException"/> for any malformation.</summary>
    public static SafeTensorsFile Open(string path)
    {
        path = System.IO.Path.GetFullPath(path);
        if (!File.Exists(path))
            throw new SafeTensorsException(path, null, "file not found");
        long fileLength = new FileInfo(path).Length;
        if (fileLength < 8)
            throw new SafeTensorsException(
                path,
                null,
                $"truncated: {fileLength} bytes, shorter than the 8-byte header length"
            );

        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        bool acquired = false;
        try
        {
            view = map.CreateViewAccessor(0, fileLength, MemoryMappedFileAccess.Read);
            byte* basePtr = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref basePtr);
            acquired = true;
            basePtr += view.PointerOffset;

            ulong headerLength = BitConverter.ToUInt64(new ReadOnlySpan<byte>(basePtr, 8)); // little-endian machines only
            if (headerLength > (ulong)MaxHeaderBytes)
                throw new SafeTensorsException(
                    path,
                    null,
                    $"header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit (not a safetensors file?)"
                );
            if (8 + (long)headerLength > fileLength)
                throw new SafeTensorsException(
                    path,
                    null,
                    $"truncated: header claims {headerLength} bytes but the file has only {fileLength - 8} after the length field"
                );

            var header = new ReadOnlySpan<byte>(basePtr + 8, (int)headerLength);
            long dataLength = fileLength - 8 - (long)headerLength;
            var (tensors, metadata) = ParseHeader(path, header, dataLength);
            return new SafeTensorsFile(path, map, view, basePtr + 8 + (long)headerLength, tensors, metadata);
        }
        catch
        {
            if (acquired)
                view!.SafeMemoryMappedViewHandle.ReleasePointer();
            view?.Dispose();
            map.Dispose();
            throw;
        }
    }

    /// <summary>Parses and validates a header against the data section's length.</summary>
    internal static (List<SafeTensorInfo>, Dictionary<string, string>) ParseHeader(
        string path,
        ReadOnlySpan<byte> header,
        long dataLength
    )
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header.ToArray());
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
            return (tensors, metadata);
        }
    }

    private static SafeTensorInfo ParseEntry(string path, JsonProperty prop, long dataLength)
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
                $"unsupported dtype '{dt.GetString()}' (supported: {string.Join(", ", Enum.GetNames<SafeTensorDType>())})"
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
                $"data_offsets [{begin}, {end}] run past the end of the data section ({dataLength} bytes; file truncated?)"
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
                $"byte count mismatch: dtype {dtype} with shape {SafeTensorDTypes.FormatShape(shape)} needs {expected} bytes but data_offsets [{begin}, {end}] span {end - begin}"
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
                    $"data_offsets [{t.Begin}, {t.End}] overlap those of '{previous.Name}' [{previous.Begin}, {previous.End}]"
                );
            previous = t;
        }
    }

    public bool Contains(string name) => _tensors.ContainsKey(name);

    public SafeTensorInfo Info(string name) =>
        _tensors.TryGetValue(name, out var info)
            ? info
            : throw new SafeTensorsException(Path, name, "no such tensor in this file");

    public string FileOf(string name) => Path;

    public ReadOnlySpan<byte> Bytes(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var info = Info(name);
        if (info.ByteCount > int.MaxValue)
            throw new SafeTensorsException(Path, name, $"{info.ByteCount} bytes exceed a span; use {nameof(Pointer)}");
        return new ReadOnlySpan<byte>(_data + info.Begin, (int)info.ByteCount);
    }

    /// <summary>Pointer to a tensor's bytes in the mapping (for tensors over 2 GiB). Valid until disposal.</summary>
    public byte* Pointer(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _data + Info(name).Begin;
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _view?.SafeMemoryMappedViewHandle.ReleasePointer();
        _view?.Dispose();
        _map?.Dispose();
    }
}
