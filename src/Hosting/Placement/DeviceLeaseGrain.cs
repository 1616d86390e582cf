using Microsoft.Extensions.DependencyInjection;
using Orleans.Concurrency;

namespace AlignCluster.Hosting.Placement;

/// <summary>
/// One silo's <see cref="DeviceLeases"/> as a grain, keyed by the silo's address
/// (<see cref="SiloAddress.ToParsableString"/>) and always activated on that silo: the device director reserves
/// through it, and status tools list a silo's devices with it.
/// </summary>
[Alias("aligncluster.IDeviceLeaseGrain")]
public interface IDeviceLeaseGrain : IGrainWithStringKey
{
    /// <summary>Reserves a device of this silo for <paramref name="grain"/>; null when none is free.</summary>
    [Alias("TryReserve")]
    Task<string?> TryReserve(GrainId grain);

    /// <summary>This silo's devices and their holders.</summary>
    [Alias("List")]
    Task<IReadOnlyList<DeviceLease>> List();
}

[SiloTargetedPlacement, Reentrant]
internal sealed class DeviceLeaseGrain(IServiceProvider services) : Grain, IDeviceLeaseGrain
{
    // A silo that declared no devices (no AddDevices) has no leases: it reserves nothing.
    private readonly DeviceLeases? _leases = services.GetService<DeviceLeases>();

    public Task<string?> TryReserve(GrainId grain) => Task.FromResult(_leases?.TryReserve(grain));

    public Task<IReadOnlyList<DeviceLease>> List() =>
        Task.FromResult(_leases?.Snapshot() ?? Array.Empty<DeviceLease>());
}
