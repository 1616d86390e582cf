namespace AlignCluster.Grains.Demo;

/// <summary>
/// The demo's tokenizer: one token per digit plus specials. Ids: 0 pad, 1 bos, 2 eos, 3..12 the digits '0'..'9'.
/// Real runs use a Hugging Face tokenizer through AlignCluster.Models; the toy task needs nothing more.
/// </summary>
public static class ToyVocabulary
{
    public const int Pad = 0,
        Bos = 1,
        Eos = 2,
        FirstDigit = 3;
    public const int Size = FirstDigit + 10;

    public static int[] Encode(string digits) =>
        digits
            .Select(c =>
                c is >= '0' and <= '9'
                    ? FirstDigit + (c - '0')
                    : throw new ArgumentException($"the toy vocabulary has only digits; got '{c}' in \"{digits}\"")
            )
            .ToArray();

    /// <summary>Digits up to (not including) the first end token; other specials are dropped.</summary>
    public static string Decode(IEnumerable<int> ids)
    {
        var chars = new List<char>();
        foreach (int id in ids)
        {
            if (id == Eos)
                break;
            if (id >= FirstDigit && id < Size)
                chars.Add((char)('0' + id - FirstDigit));
        }
        return new string(chars.ToArray());
    }

    /// <summary>Response ids for a text: its digits and the end token.</summary>
    public static int[] EncodeResponse(string digits) => [.. Encode(digits), Eos];
}
