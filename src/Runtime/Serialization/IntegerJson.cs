using System.Buffers.Text;

namespace AlignCluster.Runtime.Serialization;

/// <summary>
/// The JSON text of <c>int</c> and <c>long</c> values without System.Text.Json: they are the most common scalar
/// arguments and results, and the general path (type-info lookup, pooled writer, reader) cost more than the rest of
/// their encoding. The bytes are exactly what System.Text.Json writes; text that is not in that canonical form
/// (whitespace, leading zeros, '+') is left to System.Text.Json, so what is accepted or refused does not change.
/// </summary>
internal static class IntegerJson
{
    public static bool TryWrite(object? value, Type type, out byte[] json)
    {
        Span<byte> text = stackalloc byte[20];
        int written = 0;
        bool done = value switch
        {
            int i when type == typeof(int) => Utf8Formatter.TryFormat(i, text, out written),
            long l when type == typeof(long) => Utf8Formatter.TryFormat(l, text, out written),
            _ => false,
        };
        json = done ? text[..written].ToArray() : [];
        return done;
    }

    public static bool TryRead(ReadOnlySpan<byte> json, Type type, out object? value)
    {
        value = null;
        if (type == typeof(int) && Utf8Parser.TryParse(json, out int i, out int used) && used == json.Length && IsCanonical(json, i)) value = i;
        else if (type == typeof(long) && Utf8Parser.TryParse(json, out long l, out used) && used == json.Length && IsCanonical(json, l)) value = l;
        return value is not null;
    }

    // Formatting the value again must give the same bytes: rules out "+1", "007", "-0".
    private static bool IsCanonical(ReadOnlySpan<byte> json, long value)
    {
        Span<byte> text = stackalloc byte[20];
        return Utf8Formatter.TryFormat(value, text, out int written) && json.SequenceEqual(text[..written]);
    }
}
