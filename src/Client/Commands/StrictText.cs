using System.Text;
using AlignCluster.Alignment.Data;

namespace AlignCluster.Client.Commands;

/// <summary>
/// Text input decoded as the training data reader decodes it: invalid UTF-8 is refused naming the source, line and
/// byte, never replaced by U+FFFD and then tokenized or scored as if it were what the user meant.
/// </summary>
internal static class StrictText
{
    /// <summary>The lines of a JSONL file (numbered from 1, blank lines included so numbers stay true).</summary>
    public static IEnumerable<(int Number, string Text)> Lines(string path)
    {
        using var stream = File.OpenRead(path);
        foreach (var (number, bytes) in JsonlLines.Read(stream))
        {
            if (!JsonlLines.IsValidUtf8(bytes))
            {
                int at = JsonlLines.FirstInvalidUtf8Offset(bytes) + 1;
                throw new FormatException($"{path}:{number}: invalid UTF-8 at byte {at} of the line");
            }
            yield return (number, Encoding.UTF8.GetString(bytes));
        }
    }

    /// <summary>A whole text (a JSON file, stdin) without a leading BOM; the error names the line of the first
    /// invalid byte.</summary>
    public static string Decode(byte[] bytes, string source)
    {
        int start = bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0;
        if (JsonlLines.IsValidUtf8(bytes.AsSpan(start)))
            return Encoding.UTF8.GetString(bytes, start, bytes.Length - start);
        int offset = JsonlLines.FirstInvalidUtf8Offset(bytes);
        int line = 1 + bytes.AsSpan(0, offset).Count((byte)'\n');
        int lineStart = bytes.AsSpan(0, offset).LastIndexOf((byte)'\n') + 1;
        throw new FormatException($"{source}:{line}: invalid UTF-8 at byte {offset - lineStart + 1} of the line");
    }
}
