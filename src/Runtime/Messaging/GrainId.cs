namespace AlignCluster.Runtime.Messaging;

/// <summary>
/// A grain's identity: its grain type (the full name of the grain interface it is addressed by, e.g.
/// "AlignCluster.Interfaces.ITrainerGrain") and its key (string keys as is, Guid keys in "N" format, integer keys in
/// decimal). Text form: <c>type/key</c> (the type never contains '/').
/// </summary>
public readonly record struct GrainId(string Type, string Key)
{
    public override string ToString() => $"{Type}/{Key}";

    /// <summary>Parses <c>type/key</c>; throws <see cref="FormatException"/> naming the text.</summary>
    public static GrainId Parse(string text)
    {
        int slash = text.IndexOf('/');
        if (slash <= 0) throw new FormatException($"'{text}' is not a grain id (expected type/key).");
        return new GrainId(text[..slash], text[(slash + 1)..]);
    }

    /// <summary>
    /// A stable 32-bit hash used for consistent-hash placement; the same on every silo and every run, unlike
    /// string.GetHashCode. FNV-1a over the UTF-16 code units, then MurmurHash3's finalizer: FNV-1a alone moves keys that
    /// differ in their last character (shard-0, shard-1, …) only by small multiples of 2^24, so they sat on short arcs of
    /// the ring — a few silos — instead of spreading over the cluster.
    /// </summary>
    public uint StableHash()
    {
        uint hash = 2166136261;
        foreach (char c in Type) hash = (hash ^ c) * 16777619;
        hash = (hash ^ '/') * 16777619;
        foreach (char c in Key) hash = (hash ^ c) * 16777619;
        hash ^= hash >> 16;
        hash *= 0x85ebca6b;
        hash ^= hash >> 13;
        hash *= 0xc2b2ae35;
        hash ^= hash >> 16;
        return hash;
    }
}
