using System.Text;
using System.Text.Unicode;

namespace AlignCluster.Alignment.Data;

/// <summary>
/// Splits a byte stream into JSONL lines without decoding it first, so invalid UTF-8 is reported with its line
/// number instead of being silently replaced by U+FFFD (what a <see cref="StreamReader"/> would do).
/// </summary>
public static class JsonlLines
{
    /// <summary>Yields (1-based line number, line bytes without the terminator). A leading UTF-8 BOM is
    /// dropped.</summary>
    public static IEnumerable<(int Line, byte[] Bytes)> Read(Stream stream)
    {
        var buffer = new byte[1 << 16];
        var carry = new byte[1 << 12]; // the unfinished line from previous reads
        int carried = 0,
            lineNumber = 0,
            read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            int start = 0,
                newline;
            while ((newline = Array.IndexOf(buffer, (byte)'\n', start, read - start)) >= 0)
            {
                var piece = buffer.AsSpan(start, newline - start);
                byte[] line;
                if (carried == 0)
                    line = Finish(piece, lineNumber == 0);
                else
                {
                    Append(ref carry, ref carried, piece);
                    line = Finish(carry.AsSpan(0, carried), lineNumber == 0);
                    carried = 0;
                }
                start = newline + 1;
                yield return (++lineNumber, line);
            }
            Append(ref carry, ref carried, buffer.AsSpan(start, read - start));
        }
        if (carried > 0)
            yield return (++lineNumber, Finish(carry.AsSpan(0, carried), lineNumber == 0));
    }

    private static void Append(ref byte[] carry, ref int carried, ReadOnlySpan<byte> piece)
    {
        if (carried + piece.Length > carry.Length)
            Array.Resize(ref carry, Math.Max(carry.Length * 2, carried + piece.Length));
        piece.CopyTo(carry.AsSpan(carried));
        carried += piece.Length;
    }

    /// <summary>Copies one line out, without a trailing CR and (on the first line) a UTF-8 BOM.</summary>
    private static byte[] Finish(ReadOnlySpan<byte> line, bool first)
    {
        if (first && line.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
            line = line[3..];
        if (line.Length > 0 && line[^1] == (byte)'\r')
            line = line[..^1];
        return line.ToArray();
    }

    /// <summary>True when the line holds only JSON whitespace (blank lines are skipped).</summary>
    public static bool IsBlank(ReadOnlySpan<byte> line)
    {
        foreach (var b in line)
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r'))
                return false;
        return true;
    }

    public static bool IsValidUtf8(ReadOnlySpan<byte> line) => Utf8.IsValid(line);

    /// <summary>Byte offset of the first invalid UTF-8 sequence (for the error message).</summary>
    public static int FirstInvalidUtf8Offset(ReadOnlySpan<byte> line)
    {
        Utf8.ToUtf16(line, new char[line.Length], out int consumed, out _, replaceInvalidSequences: false);
        return consumed;
    }

    /// <summary>
    /// Python's json module writes bare <c>NaN</c>, <c>Infinity</c> and <c>-Infinity</c>, which are not JSON.
    /// Rewrites those tokens (outside strings) into the strings "NaN", "Infinity", "-Infinity" so the record parses
    /// and the numeric field readers can report "non-finite score at field X" instead of a vague syntax error.
    /// Returns the input unchanged when no such token occurs.
    /// </summary>
    public static byte[] QuoteNonFiniteLiterals(byte[] line)
    {
        if (line.AsSpan().IndexOf("NaN"u8) < 0 && line.AsSpan().IndexOf("Infinity"u8) < 0)
            return line;
        var output = new List<byte>(line.Length + 16);
        bool inString = false;
        for (int i = 0; i < line.Length; i++)
        {
            byte b = line[i];
            if (inString)
            {
                output.Add(b);
                if (b == (byte)'\\' && i + 1 < line.Length)
                    output.Add(line[++i]);
                else if (b == (byte)'"')
                    inString = false;
                continue;
            }
            if (b == (byte)'"')
            {
                inString = true;
                output.Add(b);
                continue;
            }
            int tokenLength = MatchLiteral(line.AsSpan(i));
            if (tokenLength > 0)
            {
                output.Add((byte)'"');
                output.AddRange(line.AsSpan(i, tokenLength));
                output.Add((byte)'"');
                i += tokenLength - 1;
                continue;
            }
            output.Add(b);
        }
        return output.ToArray();
    }

    private static int MatchLiteral(ReadOnlySpan<byte> rest)
    {
        if (rest.StartsWith("NaN"u8))
            return 3;
        if (rest.StartsWith("Infinity"u8))
            return 8;
        if (rest.StartsWith("-Infinity"u8))
            return 9;
        return 0;
    }
}
