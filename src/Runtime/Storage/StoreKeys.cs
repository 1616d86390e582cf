using System.Text;

namespace AlignCluster.Runtime.Storage;

/// <summary>
/// Argument rules shared by every store, and the reversible encoding that maps any container or key onto a
/// name that is safe as a file name (local directory) or as an unescaped URL path segment (Azure Blob).
/// </summary>
/// <remarks>
/// Encoding: <c>a-z 0-9 - _ .</c> stay as they are; with <c>foldCase</c> an upper-case letter becomes
/// <c>^</c> + its lower-case form (so keys differing only in case never collide on a case-insensitive file
/// system), otherwise it stays; every other character becomes <c>~XX</c> per UTF-8 byte (upper-case hex).
/// A leading or trailing '.' is always escaped, so no name is ".", "..", hidden, or ends in a dot (which
/// Windows and Azure both mangle). Escaping is per character except for those two positions, which
/// <see cref="EncodePrefix"/> accounts for.
/// </remarks>
public static class StoreKeys
{
    /// <summary>Longest key (UTF-16 chars) any store accepts.</summary>
    public const int MaxKeyLength = 512;

    /// <summary>Longest container name any store accepts.</summary>
    public const int MaxContainerLength = 63;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="container"/> is a valid container name.</summary>
    public static void ValidateContainer(string container)
    {
        ArgumentNullException.ThrowIfNull(container);
        if (container.Length is 0 or > MaxContainerLength)
            throw new ArgumentException($"container name must be 1..{MaxContainerLength} characters, got {container.Length}: '{container}'", nameof(container));
        foreach (var c in container)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
                throw new ArgumentException($"container name '{container}' may contain only ASCII letters, digits, '-', '_' and '.'", nameof(container));
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="key"/> is a valid key: 1..512 chars of well-formed UTF-16.</summary>
    public static void ValidateKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length is 0 or > MaxKeyLength)
            throw new ArgumentException($"key must be 1..{MaxKeyLength} characters, got {key.Length}", nameof(key));
        try { StrictUtf8.GetByteCount(key); }
        catch (EncoderFallbackException) { throw new ArgumentException($"key '{key}' contains an unpaired surrogate", nameof(key)); }
    }

    /// <summary>Encodes a name (see remarks on the class).</summary>
    public static string Encode(string name, bool foldCase)
    {
        var sb = new StringBuilder(name.Length + 8);
        AppendEncoded(sb, name, foldCase);
        var last = name.Length - 1;
        if (name[0] == '.') { sb.Remove(0, 1).Insert(0, "~2E"); if (last == 0) return sb.ToString(); }
        if (name[last] == '.') sb.Remove(sb.Length - 1, 1).Append("~2E");
        return sb.ToString();
    }

    /// <summary>
    /// <see cref="Encode"/>, shortened when longer than <paramref name="maxLength"/>: the first characters of the
    /// encoding, '=' (which no encoding contains, so a shortened name never equals a plain one) and the SHA-256 of
    /// the name in hex. A shortened name cannot be decoded: stores keep the name beside the data.
    /// </summary>
    public static string EncodeBounded(string name, bool foldCase, int maxLength)
    {
        var encoded = Encode(name, foldCase);
        if (encoded.Length <= maxLength) return encoded;
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(name)));
        return $"{encoded[..ShortenedPrefixLength(maxLength)]}={hash}";
    }

    /// <summary>How many characters of the encoding a name shortened to <paramref name="maxLength"/> keeps.</summary>
    public static int ShortenedPrefixLength(int maxLength) => maxLength - 65;

    /// <summary>Whether <paramref name="encoded"/> came from <see cref="EncodeBounded"/> shortening a long name.</summary>
    public static bool IsShortened(string encoded) => encoded.Contains('=');

    /// <summary>
    /// The longest string that is a prefix of <see cref="Encode"/>(k) for every key k starting with
    /// <paramref name="prefix"/>: trailing dots are left off, as they may be escaped in a key that ends there.
    /// </summary>
    public static string EncodePrefix(string prefix, bool foldCase)
    {
        var trimmed = prefix.TrimEnd('.');
        if (trimmed.Length == 0) return prefix.Length > 0 ? "~2E" : "";
        var sb = new StringBuilder(trimmed.Length + 8);
        AppendEncoded(sb, trimmed, foldCase);
        if (trimmed[0] == '.') sb.Remove(0, 1).Insert(0, "~2E");
        return sb.ToString();
    }

    /// <summary>Inverse of <see cref="Encode"/>; null when <paramref name="encoded"/> is not a valid encoding.</summary>
    public static string? TryDecode(string encoded)
    {
        var bytes = new List<byte>(encoded.Length);
        for (var i = 0; i < encoded.Length; i++)
        {
            var c = encoded[i];
            if (c == '~')
            {
                if (i + 2 >= encoded.Length || !byte.TryParse(encoded.AsSpan(i + 1, 2), System.Globalization.NumberStyles.AllowHexSpecifier, null, out var b))
                    return null;
                bytes.Add(b);
                i += 2;
            }
            else if (c == '^')
            {
                if (i + 1 >= encoded.Length || !char.IsAsciiLetterLower(encoded[i + 1])) return null;
                bytes.Add((byte)char.ToUpperInvariant(encoded[++i]));
            }
            else if (IsKept(c) || char.IsAsciiLetterUpper(c)) bytes.Add((byte)c);
            else return null;
        }
        try { return StrictUtf8.GetString(bytes.ToArray()); }
        catch (DecoderFallbackException) { return null; }
    }

    private static bool IsKept(char c) => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_' or '.';

    private static void AppendEncoded(StringBuilder sb, string name, bool foldCase)
    {
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (IsKept(c)) sb.Append(c);
            else if (char.IsAsciiLetterUpper(c)) { if (foldCase) sb.Append('^').Append(char.ToLowerInvariant(c)); else sb.Append(c); }
            else
            {
                var width = char.IsHighSurrogate(c) && i + 1 < name.Length ? 2 : 1;
                var n = StrictUtf8.GetBytes(name.AsSpan(i, width), utf8);
                for (var j = 0; j < n; j++) sb.Append('~').Append(utf8[j].ToString("X2"));
                i += width - 1;
            }
        }
    }
}
