using Orleans.Placement;

namespace AlignCluster.Hosting.Placement;

/// <summary>
/// Placement for device-pinned grains (trainers): the director puts an activation only on a silo that has a free
/// device and reserves that device for it, so that each device serves one grain.
/// </summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking, Alias("aligncluster.device-placement")]
public sealed class DevicePlacement : PlacementStrategy
{
    public static readonly DevicePlacement Instance = new();
}

/// <summary>Marks a grain class as device-pinned (see <see cref="DevicePlacement"/>).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class DevicePlacementAttribute() : PlacementAttribute(DevicePlacement.Instance);

/// <summary>
/// Placement on the one silo named by the grain's key (a silo address): how the device director reaches a given
/// silo's <see cref="DeviceLeases"/>. Never falls back to another silo, since the answer would be that silo's.
/// </summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking, Alias("aligncluster.silo-targeted-placement")]
internal sealed class SiloTargetedPlacement : PlacementStrategy
{
    public static readonly SiloTargetedPlacement Instance = new();
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
internal sealed class SiloTargetedPlacementAttribute() : PlacementAttribute(SiloTargetedPlacement.Instance);
