namespace AlignCluster.Runtime;

/// <summary>How a grain's activation site is chosen. Custom strategies derive from it and register an
/// <see cref="IPlacementDirector"/> for their type.</summary>
public abstract record PlacementStrategy;

/// <summary>Default: the owner of the grain id on a consistent-hash ring over live silos.</summary>
public sealed record HashBasedPlacement : PlacementStrategy { public static readonly HashBasedPlacement Instance = new(); }

/// <summary>A uniformly random live silo.</summary>
public sealed record RandomPlacement : PlacementStrategy { public static readonly RandomPlacement Instance = new(); }

/// <summary>The silo that handles the first call, if it is compatible; otherwise hash placement.</summary>
public sealed record PreferLocalPlacement : PlacementStrategy { public static readonly PreferLocalPlacement Instance = new(); }

/// <summary>Only on silos whose metadata declares a free device of <paramref name="DeviceKind"/>; the activation
/// leases that device exclusively (one grain per device). <paramref name="DeviceKind"/> null means "cuda if the
/// cluster has any, else cpu": machines without GPUs declare CPU devices.</summary>
public sealed record DevicePinnedPlacement(string? DeviceKind = null) : PlacementStrategy;

/// <summary>Base of placement attributes on grain classes (the first one found wins).</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = true)]
public abstract class PlacementAttribute(PlacementStrategy strategy) : Attribute
{
    public PlacementStrategy PlacementStrategy { get; } = strategy;
}

/// <summary>Consistent-hash placement (the default; the attribute only documents it).</summary>
public sealed class HashBasedPlacementAttribute() : PlacementAttribute(HashBasedPlacement.Instance);

/// <summary>Random placement.</summary>
public sealed class RandomPlacementAttribute() : PlacementAttribute(RandomPlacement.Instance);

/// <summary>Prefer the silo handling the activating call.</summary>
public sealed class PreferLocalPlacementAttribute() : PlacementAttribute(PreferLocalPlacement.Instance);

/// <summary>One activation per GPU (or CPU "device" where the cluster has no GPU).</summary>
public sealed class GpuPinnedPlacementAttribute() : PlacementAttribute(new DevicePinnedPlacement());

/// <summary>One activation per device of the given kind ("cuda", "cpu", ...).</summary>
public sealed class DevicePinnedPlacementAttribute(string deviceKind) : PlacementAttribute(new DevicePinnedPlacement(deviceKind));
