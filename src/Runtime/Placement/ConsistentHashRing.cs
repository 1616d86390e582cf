using AlignCluster.Runtime.Messaging;

namespace AlignCluster.Runtime;

/// <summary>
/// A consistent-hash ring over silos: each silo owns <see cref="VirtualNodes"/> points; a grain belongs to the first
/// point at or after its <see cref="GrainId.StableHash"/>. Adding or removing one silo moves only the grains of
/// the points it gains or loses.
/// </summary>
internal sealed class ConsistentHashRing
{
    public const int VirtualNodes = 30;
    private readonly uint[] _points;
    private readonly SiloAddress[] _owners;

    public ConsistentHashRing(IEnumerable<SiloAddress> silos)
    {
        var points = new List<(uint Point, SiloAddress Silo)>();
        foreach (var silo in silos)
            for (int v = 0; v < VirtualNodes; v++)
                points.Add((new GrainId(silo.ToString(), v.ToString(System.Globalization.CultureInfo.InvariantCulture)).StableHash(), silo));
        points.Sort((a, b) => a.Point != b.Point ? a.Point.CompareTo(b.Point) : a.Silo.CompareTo(b.Silo));
        _points = [.. points.Select(p => p.Point)];
        _owners = [.. points.Select(p => p.Silo)];
    }

    public bool IsEmpty => _points.Length == 0;

    /// <summary>The silo owning <paramref name="grain"/>; throws when the ring is empty.</summary>
    public SiloAddress Owner(GrainId grain) => Owner(grain.StableHash());

    /// <summary>The silo owning a hash point.</summary>
    public SiloAddress Owner(uint hash)
    {
        if (_points.Length == 0) throw new InvalidOperationException("No active silos in the cluster: membership lists none.");
        int i = Array.BinarySearch(_points, hash);
        if (i < 0) i = ~i;
        return _owners[i == _points.Length ? 0 : i];
    }
}
