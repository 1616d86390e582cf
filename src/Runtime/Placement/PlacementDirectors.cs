using AlignCluster.Runtime.Activation;
using AlignCluster.Runtime.Messaging;

namespace AlignCluster.Runtime;

/// <summary>Default: the target's owner on the consistent-hash ring over the compatible silos.</summary>
internal sealed class HashBasedPlacementDirector : IPlacementDirector
{
    public ValueTask<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context) =>
        ValueTask.FromResult(new ConsistentHashRing(Compatible(context, target)).Owner(target.GrainId));

    internal static IEnumerable<SiloAddress> Compatible(IPlacementContext context, PlacementTarget target)
    {
        var silos = context.GetCompatibleSilos(target);
        if (silos.Count == 0) throw new InvalidOperationException($"No compatible active silo to place grain {target.GrainId}.");
        return silos.Select(s => s.Address);
    }
}

/// <summary>A uniformly random compatible silo.</summary>
internal sealed class RandomPlacementDirector : IPlacementDirector
{
    public ValueTask<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var silos = HashBasedPlacementDirector.Compatible(context, target).ToArray();
        return ValueTask.FromResult(silos[Random.Shared.Next(silos.Length)]);
    }
}

/// <summary>The local silo when compatible, else hash placement.</summary>
internal sealed class PreferLocalPlacementDirector : IPlacementDirector
{
    public ValueTask<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var silos = HashBasedPlacementDirector.Compatible(context, target).ToArray();
        return ValueTask.FromResult(silos.Contains(context.LocalSilo) ? context.LocalSilo : new ConsistentHashRing(silos).Owner(target.GrainId));
    }
}

/// <summary>
/// Device-pinned: among compatible silos that declare a device of the wanted kind, the hash-ring owner. The chosen
/// silo leases a free device when it activates the grain; if it has none it refuses (NoFreeDevice) and placement
/// retries without it, so every activation holds its own device.
/// </summary>
internal sealed class DevicePinnedPlacementDirector : IPlacementDirector
{
    public ValueTask<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var silos = context.GetCompatibleSilos(target);
        if (silos.Count == 0)
            throw new InvalidOperationException($"No active silo has a free device for device-pinned grain {target.GrainId}.");
        return ValueTask.FromResult(new ConsistentHashRing(silos.Select(s => s.Address)).Owner(target.GrainId));
    }
}

/// <summary>The silos a director may choose from for one placement attempt.</summary>
internal sealed class PlacementContext(SiloAddress localSilo, MembershipSnapshot view, PlacementStrategy strategy, IReadOnlySet<SiloAddress>? excluded)
    : IPlacementContext
{
    public SiloAddress LocalSilo { get; } = localSilo;

    public IReadOnlyList<SiloInfo> GetCompatibleSilos(PlacementTarget target)
    {
        IEnumerable<SiloInfo> silos = view.ActiveSilos;
        if (excluded is not null) silos = silos.Where(s => !excluded.Contains(s.Address));
        if (strategy is DevicePinnedPlacement pinned)
        {
            var kind = DeviceLeases.ResolveKind(pinned, view);
            silos = silos.Where(s => s.Devices.Any(d => d.Kind == kind));
        }
        return silos.ToArray();
    }
}
