using AlignCluster.Grains.Placement;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Runtime.Services;
using Orleans.Services;

namespace AlignCluster.Grains.LiveView;

/// <summary>One device of a silo and the trainer holding it (its grain key, "{run}/trainer-0"; null: free).</summary>
[GenerateSerializer, Immutable, Alias("AlignCluster.DeviceHolding")]
public sealed record DeviceHolding(string Device, string? Holder);

/// <summary>
/// Each silo's device table, asked of that silo: a grain service runs on every silo, so the live view of any one silo
/// lists the devices of all of them (the leases live in each silo's memory, nowhere else).
/// </summary>
[Alias("AlignCluster.ISiloDevicesService")]
public interface ISiloDevicesService : IGrainService
{
    [Alias("List")]
    Task<DeviceHolding[]> ListAsync();
}

internal sealed class SiloDevicesService(GrainId id, Silo silo, ILoggerFactory loggers, IServiceProvider services)
    : GrainService(id, silo, loggers), ISiloDevicesService
{
    // A silo that declares no devices (a test silo without AddAlignCluster's leases) lists none.
    private readonly DeviceLeases? _leases = services.GetService<DeviceLeases>();

    public Task<DeviceHolding[]> ListAsync() => Task.FromResult(_leases is null ? []
        : _leases.Snapshot().Select(d => new DeviceHolding(d.Device, d.Holder?.Key.ToString())).ToArray());
}

/// <summary>Reaches the <see cref="ISiloDevicesService"/> of a given silo.</summary>
public sealed class SiloDevicesClient(IServiceProvider services)
    : GrainServiceClient<ISiloDevicesService>(services)
{
    public ISiloDevicesService On(SiloAddress silo) => GetGrainService(silo);
}
