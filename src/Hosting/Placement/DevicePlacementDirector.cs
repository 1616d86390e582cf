using Microsoft.Extensions.Logging;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace AlignCluster.Hosting.Placement;

/// <summary>
/// Places a <see cref="DevicePlacement"/> grain: asks the compatible silos that declare devices, this silo first,
/// then in address order, to reserve a device for it and returns the first that does. With none free it throws
/// <see cref="NoFreeDeviceException"/>, which fails the caller's call with that message.
/// </summary>
internal sealed class DevicePlacementDirector(
    ISiloMetadataCache metadata,
    IGrainFactory grains,
    ILogger<DevicePlacementDirector> logger
) : IPlacementDirector
{
    public async Task<SiloAddress> OnAddActivation(
        PlacementStrategy strategy,
        PlacementTarget target,
        IPlacementContext context
    )
    {
        GrainId grain = target.GrainIdentity;
        SiloAddress[] compatible = context.GetCompatibleSilos(target);
        // Silos whose metadata is not known yet (just joined) are asked last: their lease grain answers for them.
        var candidates = compatible
            .Select(silo => (Silo: silo, Devices: DeviceMetadata.Parse(metadata.GetSiloMetadata(silo))))
            .Where(c => c.Devices is null || c.Devices.Count > 0)
            .OrderBy(c => c.Devices is null ? 1 : 0)
            .ThenBy(c => c.Silo.Equals(context.LocalSilo) ? 0 : 1)
            .ThenBy(c => c.Silo.ToParsableString(), StringComparer.Ordinal)
            .ToList();
        List<string> answers = [];
        foreach ((SiloAddress silo, IReadOnlyList<string>? devices) in candidates)
        {
            try
            {
                string? device = await grains.GetGrain<IDeviceLeaseGrain>(silo.ToParsableString()).TryReserve(grain);
                if (device is not null)
                {
                    logger.LogDebug("placing {Grain} on {Silo} ({Device})", grain, silo, device);
                    return silo;
                }
                answers.Add($"{silo}: {(devices is null ? "?" : string.Join(" ", devices))} all leased");
            }
            catch (Exception e) when (e is not NoFreeDeviceException)
            {
                // A silo that died since the membership snapshot: try the others.
                answers.Add($"{silo}: unreachable ({e.GetType().Name})");
            }
        }
        string where =
            answers.Count > 0
                ? string.Join("; ", answers)
                : $"none of the {compatible.Length} compatible silos declares devices (AddDevices)";
        throw new NoFreeDeviceException($"no free device for {grain}: {where}");
    }
}

/// <summary>Places a <see cref="SiloTargetedPlacement"/> grain on the silo its key names, and only there.</summary>
internal sealed class SiloTargetedPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(
        PlacementStrategy strategy,
        PlacementTarget target,
        IPlacementContext context
    )
    {
        string key = target.GrainIdentity.Key.ToString()!;
        SiloAddress silo = SiloAddress.FromParsableString(key);
        if (Array.IndexOf(context.GetCompatibleSilos(target), silo) < 0)
            throw new SiloUnavailableException($"silo {key} is not an active member of the cluster");
        return Task.FromResult(silo);
    }
}

/// <summary>How a silo's devices are written in its metadata.</summary>
internal static class DeviceMetadata
{
    public const string Key = "aligncluster.devices";

    public static string Format(IReadOnlyList<string> devices) => string.Join(',', devices);

    /// <summary>The devices a silo declared, or null when its metadata is not known (yet).</summary>
    public static IReadOnlyList<string>? Parse(SiloMetadata? silo)
    {
        if (silo is null || silo.Metadata.Count == 0)
            return null;
        return silo.Metadata.TryGetValue(Key, out string? value) && value.Length > 0 ? value.Split(',') : [];
    }
}
