using AlignCluster.Hosting.Placement;

namespace AlignCluster.Hosting.Tests.Placement;

/// <summary>
/// The lease lifecycle of one silo's devices without a cluster: reserve (the director), take over (an activation is
/// created), confirm (<see cref="DeviceLeases.Acquire"/>), release or the activation's end, and the lapse of a
/// reservation no activation took over. The clock is a manual one, so lapses happen exactly when the test says.
/// </summary>
public sealed class DeviceLeasesTests
{
    private readonly ManualClock _clock = new();
    private readonly GrainId _a = GrainId.Create("worker", "a");
    private readonly GrainId _b = GrainId.Create("worker", "b");

    private DeviceLeases OneDevice() => new(["cpu:0"], time: _clock);

    [Fact]
    public void A_reservation_no_activation_took_over_lapses_after_the_timeout_and_not_before()
    {
        DeviceLeases leases = OneDevice();
        Assert.Equal("cpu:0", leases.TryReserve(_a));

        _clock.Advance(DeviceLeases.ReservationTimeout - TimeSpan.FromSeconds(1));
        Assert.Null(leases.TryReserve(_b));

        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("cpu:0", leases.TryReserve(_b));
    }

    [Fact]
    public void A_reservation_an_activation_took_over_lasts_until_that_activation_ends()
    {
        DeviceLeases leases = OneDevice();
        var activation = ActivationId.NewId();
        leases.TryReserve(_a);
        leases.OnActivationCreated(_a, activation);

        // Past the timeout: the activation is still starting (its reservation must not go to another grain).
        _clock.Advance(DeviceLeases.ReservationTimeout * 2);
        Assert.Null(leases.TryReserve(_b));
        Assert.Equal(_a, leases.Snapshot().Single().Holder);

        leases.OnActivationEnded(_a, activation);
        Assert.Equal("cpu:0", leases.TryReserve(_b));
        Assert.Equal(1, leases.FreedAtActivationEnd);
    }

    [Fact]
    public void The_end_of_an_older_activation_leaves_the_lease_of_a_newer_one_alone()
    {
        DeviceLeases leases = OneDevice();
        (ActivationId older, ActivationId newer) = (ActivationId.NewId(), ActivationId.NewId());
        leases.TryReserve(_a);
        leases.OnActivationCreated(_a, newer);

        // The older activation's end is reported late (Orleans signals it after a newer one may have been created).
        leases.OnActivationEnded(_a, older);
        Assert.Equal(_a, leases.Snapshot().Single().Holder);
        Assert.Equal(0, leases.FreedAtActivationEnd);

        // A fresh reservation (no activation yet) is not the older activation's either.
        leases.OnActivationEnded(_a, newer);
        leases.TryReserve(_a);
        leases.OnActivationEnded(_a, older);
        Assert.Equal(_a, leases.Snapshot().Single().Holder);
    }

    [Fact]
    public void A_released_device_is_free_at_once_and_the_activations_later_end_changes_nothing()
    {
        DeviceLeases leases = OneDevice();
        var activation = ActivationId.NewId();
        leases.TryReserve(_a);
        leases.OnActivationCreated(_a, activation);
        leases.Release(_a); // a trainer's ReleaseAsync, before its deactivation
        Assert.Equal("cpu:0", leases.TryReserve(_b));

        leases.OnActivationEnded(_a, activation);
        Assert.Equal(_b, leases.Snapshot().Single().Holder);
        Assert.Equal(0, leases.FreedAtActivationEnd);
    }

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = DateTimeOffset.UtcNow;

        public void Advance(TimeSpan by) => _now += by;

        public override DateTimeOffset GetUtcNow() => _now;
    }
}
