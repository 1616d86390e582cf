using System.Diagnostics;
using AlignCluster.Hosting.Placement;

namespace AlignCluster.Hosting.Tests.TestGrains;

/// <summary>
/// A grain pinned to the silo its key names (a silo address): a call through several of them crosses silos for
/// sure. Each hop records a span of the "AlignCluster.Tests" source tagged with its silo.
/// </summary>
public interface IHopGrain : IGrainWithStringKey
{
    /// <summary>Records a hop here, then calls the hop grain of path[0] with the rest; returns the silos.</summary>
    Task<string[]> Hop(string[] path);
}

[SiloTargetedPlacement]
public sealed class HopGrain(ILocalSiloDetails silo) : Grain, IHopGrain
{
    public static readonly ActivitySource Source = new("AlignCluster.Tests");

    public async Task<string[]> Hop(string[] path)
    {
        string here = silo.SiloAddress.ToParsableString();
        using Activity? span = Source.StartActivity("hop");
        span?.SetTag("silo", here);
        if (path.Length == 0)
            return [here];
        string[] rest = await GrainFactory.GetGrain<IHopGrain>(path[0]).Hop(path[1..]);
        return [here, .. rest];
    }
}
