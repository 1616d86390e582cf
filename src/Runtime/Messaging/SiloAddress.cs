using System.Globalization;

namespace AlignCluster.Runtime.Messaging;

/// <summary>
/// A silo's identity: endpoint plus generation. A restarted silo gets a new generation (e.g. start time in ms), so a
/// silo declared dead never comes back under the same identity. Text form: <c>host:port@generation</c>.
/// </summary>
public sealed record SiloAddress(string Host, int Port, long Generation) : IComparable<SiloAddress>
{
    /// <summary>A fresh identity for a silo starting now (generation = Unix time in ms).</summary>
    public static SiloAddress New(string host, int port) => new(host, port, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    public override string ToString() => $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}@{Generation.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Parses <c>host:port@generation</c>; throws <see cref="FormatException"/> naming the text.</summary>
    public static SiloAddress Parse(string text)
    {
        int at = text.LastIndexOf('@'), colon = at < 0 ? -1 : text.LastIndexOf(':', at);
        if (colon <= 0
            || !int.TryParse(text.AsSpan(colon + 1, at - colon - 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port)
            || !long.TryParse(text.AsSpan(at + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long generation))
            throw new FormatException($"'{text}' is not a silo address (expected host:port@generation).");
        return new SiloAddress(text[..colon], port, generation);
    }

    /// <summary>True when both name the same endpoint (regardless of generation).</summary>
    public bool SameEndpoint(SiloAddress other) => Port == other.Port && string.Equals(Host, other.Host, StringComparison.OrdinalIgnoreCase);

    public int CompareTo(SiloAddress? other) => other is null ? 1 : string.CompareOrdinal(ToString(), other.ToString());
}
