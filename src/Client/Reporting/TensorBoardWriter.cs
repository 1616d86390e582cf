using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace AlignCluster.Client.Reporting;

/// <summary>
/// Writes scalars to a TensorBoard event file: TFRecord framing (uint64 length, masked CRC32C of the length, the bytes,
/// masked CRC32C of the bytes) around Event protobufs (wall_time = 1, step = 2, file_version = 3, summary = 5 →
/// Summary.value = 1 → Value.tag = 1, simple_value = 2), encoded by hand: six fields need no protobuf library.
/// </summary>
/// <remarks>
/// Not TorchSharp's <c>torch.utils.tensorboard.SummaryWriter</c> (0.107): its CRC is computed in native LibTorchSharp,
/// so writing a scalar loads libtorch into the client (which `train --cluster` otherwise never does, and which on a GPU
/// node must be chosen by TorchRuntime first), and its wall times are whole seconds, the first event's in .NET ticks
/// (about 6.4e17) instead of Unix seconds (docs/operations.md, "Watching a run in TensorBoard").
/// Each writer starts a new file (events.out.tfevents.SECONDS.HOST.PID.N), as TensorBoard expects of every process that
/// appends to a run; a record cut short by a crash is the last one, and readers stop before it.
/// </remarks>
public sealed class TensorBoardWriter : IDisposable
{
    private static int _files;
    private readonly FileStream _file;

    /// <summary>Creates <paramref name="directory"/> if needed and a new event file in it.</summary>
    public TensorBoardWriter(string directory)
    {
        Directory.CreateDirectory(directory);
        var now = DateTimeOffset.UtcNow;
        string name =
            $"events.out.tfevents.{now.ToUnixTimeSeconds()}.{Environment.MachineName}.{Environment.ProcessId}"
            + $".{Interlocked.Increment(ref _files)}";
        FilePath = Path.Combine(directory, name);
        _file = new FileStream(FilePath, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        Append(Event(WallTime(now), 0, fileVersion: "brain.Event:2", summary: null));
        Flush();
    }

    public string FilePath { get; }

    /// <summary>One event at <paramref name="step"/> holding every scalar (TensorBoard splits them by tag).</summary>
    public void Write(
        long step,
        IReadOnlyCollection<(string Tag, double Value)> scalars,
        DateTimeOffset? wallTime = null
    )
    {
        if (scalars.Count == 0)
            return;
        var summary = new MemoryStream();
        foreach (var (tag, value) in scalars)
        {
            var item = new MemoryStream();
            Bytes(item, 1, Encoding.UTF8.GetBytes(tag));
            Key(item, 2, wireType: 5);
            Span<byte> f = stackalloc byte[4];
            BinaryPrimitives.WriteSingleLittleEndian(f, (float)value);
            item.Write(f);
            Bytes(summary, 1, item.ToArray());
        }
        Append(Event(WallTime(wallTime ?? DateTimeOffset.UtcNow), step, fileVersion: null, summary.ToArray()));
    }

    /// <summary>Makes what was written visible to a TensorBoard reading the file now.</summary>
    public void Flush() => _file.Flush(flushToDisk: false);

    public void Dispose() => _file.Dispose();

    private static double WallTime(DateTimeOffset t) => t.ToUnixTimeMilliseconds() / 1000.0;

    private static byte[] Event(double wallTime, long step, string? fileVersion, byte[]? summary)
    {
        var e = new MemoryStream();
        Key(e, 1, wireType: 1);
        Span<byte> d = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleLittleEndian(d, wallTime);
        e.Write(d);
        if (step != 0)
        {
            Key(e, 2, wireType: 0);
            Varint(e, (ulong)step);
        }
        if (fileVersion is not null)
            Bytes(e, 3, Encoding.UTF8.GetBytes(fileVersion));
        if (summary is not null)
            Bytes(e, 5, summary);
        return e.ToArray();
    }

    /// <summary>One TFRecord: length, its masked CRC, the data, the data's masked CRC.</summary>
    private void Append(byte[] data)
    {
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], MaskedCrc(header[..8]));
        _file.Write(header);
        _file.Write(data);
        Span<byte> footer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, MaskedCrc(data));
        _file.Write(footer);
    }

    /// <summary>TFRecord's CRC: CRC32C (Castagnoli; BitOperations accumulates it without the initial and final
    /// inversion) rotated right by 15 bits plus 0xa282ead8.</summary>
    private static uint MaskedCrc(ReadOnlySpan<byte> data)
    {
        uint crc = ~0u;
        foreach (byte b in data)
            crc = BitOperations.Crc32C(crc, b);
        crc = ~crc;
        return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
    }

    private static void Key(Stream s, int field, int wireType) => Varint(s, (ulong)(field << 3 | wireType));

    private static void Bytes(Stream s, int field, byte[] value)
    {
        Key(s, field, wireType: 2);
        Varint(s, (ulong)value.Length);
        s.Write(value);
    }

    private static void Varint(Stream s, ulong value)
    {
        for (; value >= 0x80; value >>= 7)
            s.WriteByte((byte)(value | 0x80));
        s.WriteByte((byte)value);
    }
}
