using AlignCluster.Runtime.Messaging;

namespace AlignCluster.Runtime;

/// <summary>Key accessors for grains and grain references, named as in Orleans.</summary>
public static class GrainExtensions
{
    /// <summary>The grain identity of a grain instance or a grain reference.</summary>
    public static GrainId GetGrainId(this IAddressable grain) => grain switch
    {
        Grain g => g.GrainContext.GrainId,
        IGrainReference r => r.GrainId,
        _ => throw new ArgumentException($"{grain.GetType()} is neither a grain nor a grain reference.", nameof(grain)),
    };

    /// <summary>The string key of the grain.</summary>
    public static string GetPrimaryKeyString(this IAddressable grain) => grain.GetGrainId().Key;

    /// <summary>The Guid key of the grain (throws <see cref="FormatException"/> when the key is not a Guid).</summary>
    public static Guid GetPrimaryKey(this IAddressable grain) => Guid.ParseExact(grain.GetGrainId().Key, "N");

    /// <summary>The integer key of the grain (throws <see cref="FormatException"/> when the key is not an integer).</summary>
    public static long GetPrimaryKeyLong(this IAddressable grain) =>
        long.Parse(grain.GetGrainId().Key, System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Implemented by every grain reference the runtime creates.</summary>
public interface IGrainReference : IAddressable
{
    /// <summary>The identity of the referenced grain.</summary>
    GrainId GrainId { get; }

    /// <summary>The grain interface the reference was created for.</summary>
    Type InterfaceType { get; }
}
