using AlignCluster.Hosting.Placement;
using AlignCluster.Hosting.Tests.TestGrains;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace AlignCluster.Hosting.Tests.Placement;

/// <summary>
/// Device placement on a multi-silo in-process cluster. The silos declare devices by instance number: the first
/// none (so it can stay up while others are killed), the others the lists in <see cref="DevicesBySilo"/>.
/// </summary>
public sealed class DevicePlacementTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly ITestOutputHelper _output = output;

    private static readonly Dictionary<int, string[]> DevicesBySilo = new()
    {
        [1] = ["cpu:0", "cpu:1"],
        [2] = ["cpu:0"],
        [3] = ["cpu:0"],
    };

    private InProcessTestCluster _cluster = null!;

    private IGrainFactory Grains => _cluster.Client;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(4);
        builder.ConfigureSilo(
            (options, silo) =>
            {
                silo.AddDevices(DevicesBySilo.GetValueOrDefault(Instance(options.SiloName), []));
                // Declare a killed silo dead quickly (the stated bound of operations.md) so calls re-place.
                silo.Configure<ClusterMembershipOptions>(o =>
                {
                    o.ProbeTimeout = TimeSpan.FromSeconds(1);
                    o.NumMissedProbesLimit = 2;
                });
            }
        );
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    /// <summary>A silo's instance number: the digits its test-cluster name ends with (none: 0).</summary>
    private static int Instance(string siloName)
    {
        string digits = new(siloName.Reverse().TakeWhile(char.IsAsciiDigit).Reverse().ToArray());
        return digits.Length == 0 ? 0 : int.Parse(digits);
    }

    private int NameOf(string siloAddress) =>
        Instance(_cluster.Silos.Single(s => s.SiloAddress.ToParsableString() == siloAddress).Name);

    private DeviceLeases LeasesOf(int silo) =>
        _cluster.Silos.Single(s => Instance(s.Name) == silo).ServiceProvider.GetRequiredService<DeviceLeases>();

    [Fact]
    public async Task N_devices_take_N_grains_on_distinct_devices_and_the_next_one_fails_clearly()
    {
        // 4 devices in the cluster (2 + 1 + 1): 4 grains, each on its own (silo, device).
        var places = new List<(int Silo, string Device)>();
        for (int i = 0; i < 4; i++)
        {
            WorkerPlace place = await Grains.GetGrain<IDeviceWorkerGrain>($"w{i}").Where();
            places.Add((NameOf(place.Silo), place.Device));
        }
        var expected = DevicesBySilo.SelectMany(kv => kv.Value.Select(d => (kv.Key, d))).OrderBy(p => p).ToList();
        Assert.Equal(expected, places.OrderBy(p => p).ToList());

        // Each silo's leases name the grain that reported that device.
        foreach ((int silo, string device) in places)
        {
            DeviceLease lease = LeasesOf(silo).Snapshot().Single(l => l.Device == device);
            Assert.True(lease.Confirmed);
            Assert.NotNull(lease.Holder);
        }

        var e = await Assert.ThrowsAsync<NoFreeDeviceException>(() =>
            Grains.GetGrain<IDeviceWorkerGrain>("w4").Where()
        );
        Assert.StartsWith("no free device for ", e.Message);
        Assert.Contains("all leased", e.Message);

        // A grain that leaves frees its device for the next one.
        WorkerPlace freed = await Grains.GetGrain<IDeviceWorkerGrain>("w0").Where();
        await Grains.GetGrain<IDeviceWorkerGrain>("w0").Leave();
        WorkerPlace next = await WaitForAsync(() => Grains.GetGrain<IDeviceWorkerGrain>("w4").Where());
        Assert.Equal((freed.Silo, freed.Device), (next.Silo, next.Device));
    }

    [Fact]
    public async Task A_grain_reactivated_at_a_stale_location_moves_to_a_free_device()
    {
        // w-stale activates somewhere, leaves; another holder takes its device behind its back (as a trainer placed
        // there meanwhile would). Its next call may reach the old silo from a cached location: it must not run
        // there without a device, but land on a free device elsewhere.
        var grain = Grains.GetGrain<IDeviceWorkerGrain>("w-stale");
        WorkerPlace first = await grain.Where();
        int firstSilo = NameOf(first.Silo);
        await grain.Leave();
        await _cluster.WaitForDeactivationAsync(grain);
        DeviceLeases old = LeasesOf(firstSilo);
        var squatters = old.Devices.Select(d => GrainId.Create("squatter", d.Replace(':', '-'))).ToList();
        foreach (GrainId squatter in squatters)
            old.Acquire(squatter);

        WorkerPlace second = await grain.Where();
        _output.WriteLine($"relocations on the old silo: {old.Relocations}");
        Assert.NotEqual(firstSilo, NameOf(second.Silo));
        // Whether the call reached the old silo (a cached location: relocations 1) or went through placement
        // (0) depends on Orleans' caches; either way it must land on a free device elsewhere, asserted above.
        DeviceLease lease = LeasesOf(NameOf(second.Silo)).Snapshot().Single(l => l.Device == second.Device);
        Assert.Equal(grain.GetGrainId(), lease.Holder);
        Assert.True(lease.Confirmed);
    }

    [Fact]
    public async Task A_grain_whose_silo_is_killed_reactivates_on_a_free_device_elsewhere()
    {
        // Fill silo 1's two devices so that the two workers go to silos 2 and 3.
        LeasesOf(1).Acquire(GrainId.Create("squatter", "a"));
        LeasesOf(1).Acquire(GrainId.Create("squatter", "b"));
        WorkerPlace a = await Grains.GetGrain<IDeviceWorkerGrain>("wa").Where();
        WorkerPlace b = await Grains.GetGrain<IDeviceWorkerGrain>("wb").Where();
        Assert.NotEqual(a.Silo, b.Silo);

        // Free one device on silo 1, kill wa's silo: wa must come back on silo 1's free device.
        LeasesOf(1).Release(GrainId.Create("squatter", "b"));
        await _cluster.KillSiloAsync(_cluster.Silos.Single(s => s.SiloAddress.ToParsableString() == a.Silo));

        WorkerPlace moved = await WaitForAsync(() => Grains.GetGrain<IDeviceWorkerGrain>("wa").Where());
        Assert.Equal(1, NameOf(moved.Silo));
        Assert.Equal("cpu:1", moved.Device);
        Assert.Equal(b, await Grains.GetGrain<IDeviceWorkerGrain>("wb").Where());
    }

    /// <summary>
    /// Retries while the cluster converges (a killed silo not yet declared dead, a deactivation in flight); gives up
    /// after 60 s, a bound for a loaded machine, not a timing assertion.
    /// </summary>
    internal static async Task<T> WaitForAsync<T>(Func<Task<T>> call)
    {
        DateTime deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }
}
