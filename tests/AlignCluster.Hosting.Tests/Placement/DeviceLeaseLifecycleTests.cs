using AlignCluster.Hosting.Placement;
using AlignCluster.Hosting.Tests.TestGrains;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace AlignCluster.Hosting.Tests.Placement;

/// <summary>
/// The stale device holder: one silo, one device, and a device-pinned activation that fails after the director
/// reserved the device for it. Its OnDeactivateAsync never runs, so only the lease's tie to the activation frees
/// the device. The silo's lease clock is frozen: a reservation never lapses here, so a device that comes free was
/// freed by the activation's end, not by the 60 s lapse.
/// </summary>
public sealed class DeviceLeaseLifecycleTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly ITestOutputHelper _output = output;
    private InProcessTestCluster _cluster = null!;

    private IGrainFactory Grains => _cluster.Client;

    private DeviceLeases Leases => _cluster.Silos[0].ServiceProvider.GetRequiredService<DeviceLeases>();

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo(
            (_, silo) =>
            {
                silo.AddDevices(["cpu:0"]);
                // Replaces AddDevices' leases (the last registration wins) with ones on the frozen clock.
                silo.Services.AddSingleton(services => new DeviceLeases(
                    ["cpu:0"],
                    services.GetService<IGrainContextAccessor>(),
                    time: new FrozenClock()
                ));
            }
        );
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Theory]
    [InlineData("before-confirm")] // the director's reservation was never confirmed: it waited for the lapse
    [InlineData("after-confirm")] // the activation confirmed the device: it was held for good
    public async Task An_activation_that_fails_frees_the_device_it_was_placed_on(string failure)
    {
        var failing = Grains.GetGrain<IFailingDeviceWorkerGrain>(failure);
        Exception e = await Assert.ThrowsAnyAsync<Exception>(() => failing.Where());
        _output.WriteLine($"the failed activation's caller got: {e.GetType().Name}: {e.Message}");
        Assert.Contains(FailingDeviceWorkerGrain.Failure, e.Message); // placed on cpu:0 (the only device), then failed

        // The next device-pinned grain gets cpu:0 once the failed activation is gone (Orleans ends it after a delay).
        // Without the fix the device is never freed here (frozen clock): the last NoFreeDeviceException fails the test.
        WorkerPlace next = await DevicePlacementTests.WaitForAsync(() =>
            Grains.GetGrain<IDeviceWorkerGrain>("next").Where()
        );
        Assert.Equal("cpu:0", next.Device);
        DeviceLease lease = Leases.Snapshot().Single();
        Assert.Equal(Grains.GetGrain<IDeviceWorkerGrain>("next").GetGrainId(), lease.Holder);
        Assert.True(lease.Confirmed);
        Assert.Equal(1, Leases.FreedAtActivationEnd);
    }

    private sealed class FrozenClock : TimeProvider
    {
        private readonly DateTimeOffset _now = DateTimeOffset.UtcNow;

        public override DateTimeOffset GetUtcNow() => _now;
    }
}
