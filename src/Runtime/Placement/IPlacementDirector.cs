using AlignCluster.Runtime.Messaging;

namespace AlignCluster.Runtime;

/// <summary>Chooses the silo for a new activation (Orleans' IPlacementDirector). Called on the silo that handles
/// the activating call, at most once per activation attempt; the result is recorded in the grain directory.</summary>
public interface IPlacementDirector
{
    /// <summary>The silo to activate <paramref name="target"/> on; must be one of
    /// <see cref="IPlacementContext.GetCompatibleSilos"/>.</summary>
    ValueTask<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context);
}

/// <summary>What is being placed.</summary>
/// <param name="GrainId">The grain.</param>
/// <param name="InterfaceName">The grain interface of the activating call.</param>
public readonly record struct PlacementTarget(GrainId GrainId, string InterfaceName);

/// <summary>The view a placement director decides on.</summary>
public interface IPlacementContext
{
    /// <summary>The silo running the director.</summary>
    SiloAddress LocalSilo { get; }

    /// <summary>Active silos that can host the target, in a stable order (by address), excluding silos that already
    /// refused this placement attempt (e.g. no free device).</summary>
    IReadOnlyList<SiloInfo> GetCompatibleSilos(PlacementTarget target);
}
