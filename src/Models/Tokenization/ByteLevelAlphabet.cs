using System.Text;

namespace AlignCluster.Models.Tokenization;

/// <summary>
/// GPT-2's reversible byte→character map: printable Latin-1 bytes map to themselves, the other 68 bytes to
/// U+0100.. in order, so every byte string becomes a string of visible characters (space → 'Ġ', newline → 'Ċ').
/// </summary>
public static class ByteLevelAlphabet
{
    private static readonly char[] ByteToChar = Build();
    private static readonly Dictionary<char, byte> CharToByte = Enumerable
        .Range(0, 256)
        .ToDictionary(b => ByteToChar[b], b => (byte)b);

    private static char[] Build()
    {
        var map = new char[256];
        bool IsPrintable(int b) => b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
        int next = 0;
        for (int b = 0; b < 256; b++)
            map[b] = IsPrintable(b) ? (char)b : (char)(256 + next++);
        return map;
    }

    /// <summary>The character standing for a byte.</summary>
    public static char Char(byte b) => ByteToChar[b];

    /// <summary>UTF-8 bytes of <paramref name="text"/> spelled in the byte alphabet.</summary>
    public static string Encode(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++)
            chars[i] = ByteToChar[bytes[i]];
        return new string(chars);
    }

    /// <summary>Appends the bytes a byte-alphabet string stands for; characters outside the alphabet are UTF-8 encoded
    /// as-is.</summary>
    public static void AppendBytes(string symbol, List<byte> into)
    {
        foreach (var c in symbol)
        {
            if (CharToByte.TryGetValue(c, out var b))
                into.Add(b);
            else
                into.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
        }
    }
}
