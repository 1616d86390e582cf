using System.IO.MemoryMappedFiles;

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
/// One safetensors file, memory-mapped read-only: a header (<see cref="SafeTensorsHeader"/>, which parses and
/// validates it), then the raw data. Opening validates the whole header, so every later access is in bounds.
/// </summary>
public sealed unsafe class SafeTensorsFile : ISafeTensorSource
{
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
        SafeTensorsHeader header
    )
    {
        Path = path;
        _map = map;
        _view = view;
        _data = data;
        Tensors = header.Tensors;
        _tensors = header.Tensors.ToDictionary(t => t.Name);
        Metadata = header.Metadata;
    }

    /// <summary>Maps and validates a file. Throws <see cref="SafeTensorsException"/> for any malformation.</summary>
    public static SafeTensorsFile Open(string path)
    {
        path = System.IO.Path.GetFullPath(path);
        if (!File.Exists(path))
            throw new SafeTensorsException(path, null, "file not found");
        long fileLength = new FileInfo(path).Length;
        if (fileLength < SafeTensorsHeader.LengthFieldBytes) // too short to map a length field from: throws
            SafeTensorsHeader.ReadLength(path, File.ReadAllBytes(path), 0);

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

            long available = fileLength - SafeTensorsHeader.LengthFieldBytes;
            long headerLength = SafeTensorsHeader.ReadLength(
                path,
                new ReadOnlySpan<byte>(basePtr, SafeTensorsHeader.LengthFieldBytes),
                available
            );
            var header = SafeTensorsHeader.Parse(
                path,
                new ReadOnlySpan<byte>(basePtr + SafeTensorsHeader.LengthFieldBytes, (int)headerLength),
                available - headerLength
            );
            return new SafeTensorsFile(path, map, view, basePtr + header.DataStart, header);
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
