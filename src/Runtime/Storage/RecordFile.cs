using System.Buffers.Binary;
using System.Text;

namespace AlignCluster.Runtime.Storage;

/// <summary>
/// The on-disk layout of one record of <see cref="LocalDirectoryStateStore"/>:
/// <c>"ACR1"</c> · ETag (32 ASCII hex chars) · key byte count (int32 LE) · key (UTF-8) · data byte count (int64 LE) · data.
/// The key is stored so that records whose file name had to be hashed (very long keys) can still be listed;
/// the lengths let a reader reject a truncated or foreign file instead of returning garbage.
/// </summary>
internal static class RecordFile
{
    private static ReadOnlySpan<byte> Magic => "ACR1"u8;
    public const int EtagLength = 32;
    private const int FixedHeader = 4 + EtagLength + 4;

    public static string NewEtag() => Guid.NewGuid().ToString("N"); // 32 hex chars, random: never reused

    public static void Write(Stream stream, string etag, string key, ReadOnlySpan<byte> data)
    {
        var keyBytes = Encoding.UTF8.GetBytes(key);
        Span<byte> header = stackalloc byte[FixedHeader];
        Magic.CopyTo(header);
        Encoding.ASCII.GetBytes(etag, header.Slice(4, EtagLength));
        BinaryPrimitives.WriteInt32LittleEndian(header[(4 + EtagLength)..], keyBytes.Length);
        stream.Write(header);
        stream.Write(keyBytes);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(length, data.Length);
        stream.Write(length);
        stream.Write(data);
    }

    /// <summary>Parses a whole record file; throws <see cref="InvalidDataException"/> saying what is wrong.</summary>
    public static (string Etag, string Key, byte[] Data) Parse(ReadOnlySpan<byte> file)
    {
        var (etag, key, dataOffset) = ParseHeader(file);
        var dataLength = BinaryPrimitives.ReadInt64LittleEndian(file.Slice(dataOffset - 8, 8));
        if (dataLength != file.Length - dataOffset)
            throw new InvalidDataException($"record declares {dataLength} data bytes but the file holds {file.Length - dataOffset}");
        return (etag, key, file[dataOffset..].ToArray());
    }

    /// <summary>Parses the header (everything before the data) from the first bytes of a record file.</summary>
    public static (string Etag, string Key, int DataOffset) ParseHeader(ReadOnlySpan<byte> head)
    {
        if (head.Length < FixedHeader || !head[..4].SequenceEqual(Magic))
            throw new InvalidDataException("not an AlignCluster record file (bad magic)");
        var keyLength = BinaryPrimitives.ReadInt32LittleEndian(head[(4 + EtagLength)..]);
        var dataOffset = FixedHeader + keyLength + 8;
        if (keyLength < 0 || head.Length < dataOffset)
            throw new InvalidDataException("record header is truncated");
        var etag = Encoding.ASCII.GetString(head.Slice(4, EtagLength));
        var key = Encoding.UTF8.GetString(head.Slice(FixedHeader, keyLength));
        return (etag, key, dataOffset);
    }

    /// <summary>Bytes to read to be sure to hold the header of a record with a key of at most <see cref="StoreKeys.MaxKeyLength"/> chars.</summary>
    public const int MaxHeaderLength = FixedHeader + StoreKeys.MaxKeyLength * 3 + 8;
}
