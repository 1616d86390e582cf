using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace AlignCluster.Hosting.Placement;

public static class DevicePlacementExtensions
{
    /// <summary>
    /// Declares this silo's devices ("cuda:0", "cpu:0", ...; an empty list for a silo without any) in its silo
    /// metadata, registers its <see cref="DeviceLeases"/> (with <see cref="DeviceActivations"/>, which frees an ended
    /// activation's device) and the placement directors for <see cref="DevicePlacement"/>. Every silo of a cluster
    /// that hosts device-pinned grains calls it, since placement runs on the silo that receives the first call. It
    /// calls <c>UseSiloMetadata</c>: a silo that needs more metadata passes it in <paramref name="extraMetadata"/>.
    /// </summary>
    public static ISiloBuilder AddDevices(
        this ISiloBuilder builder,
        IReadOnlyList<string> devices,
        IReadOnlyDictionary<string, string>? extraMetadata = null
    )
    {
        ArgumentNullException.ThrowIfNull(devices);
        foreach (string device in devices)
        {
            if (string.IsNullOrWhiteSpace(device) || device.Contains(','))
                throw new ArgumentException($"device name '{device}' is empty or contains ','", nameof(devices));
        }
        var metadata = new Dictionary<string, string>(extraMetadata ?? new Dictionary<string, string>())
        {
            [DeviceMetadata.Key] = DeviceMetadata.Format(devices),
        };
        builder.UseSiloMetadata(metadata);
        builder.Services.AddSingleton(services => new DeviceLeases(
            devices,
            services.GetService<IGrainContextAccessor>(),
            services.GetService<ILogger<DeviceLeases>>()
        ));
        builder.Services.AddSingleton<IConfigureGrainContextProvider>(services => new DeviceActivations(services));
        builder.Services.AddPlacementDirector<DevicePlacement, DevicePlacementDirector>();
        builder.Services.AddPlacementDirector<SiloTargetedPlacement, SiloTargetedPlacementDirector>();
        return builder;
    }

    /// <summary>The devices <paramref name="silo"/> declared, as its metadata says (null if not known yet).</summary>
    public static IReadOnlyList<string>? DevicesOf(this ISiloMetadataCache cache, SiloAddress silo) =>
        DeviceMetadata.Parse(cache.GetSiloMetadata(silo));
}
