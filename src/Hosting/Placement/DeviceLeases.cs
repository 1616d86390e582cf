using Microsoft.Extensions.Logging;

namespace AlignCluster.Hosting.Placement;

/// <summary>
/// The devices of this silo and which grain holds each (one grain per device). The placement director reserves a
/// device on the silo it picks; the activation Orleans creates for the grain there takes the reservation over
/// (<see cref="OnActivationCreated"/>), confirms it with <see cref="Acquire"/> in OnActivateAsync and gives it back
/// with <see cref="Release"/>. Whatever an activation still holds when it ends is freed then
/// (<see cref="OnActivationEnded"/>), also when OnDeactivateAsync never ran: an activation that failed, lost a
/// duplicate-activation race or was deactivated while activating. A reservation no activation takes over within
/// <see cref="ReservationTimeout"/> lapses (Orleans dropped the placed message before an activation was created).
/// </summary>
public sealed class DeviceLeases
{
    /// <summary>Reservations that no activation took over lapse after this long.</summary>
    public static readonly TimeSpan ReservationTimeout = TimeSpan.FromSeconds(60);

    private readonly object _lock = new();
    private readonly Dictionary<string, Lease> _byDevice = new(StringComparer.Ordinal);
    private readonly ILogger<DeviceLeases>? _logger;
    private readonly TimeProvider _time;
    private readonly IGrainContextAccessor? _context;
    private long _relocations;
    private long _endedHolding;

    /// <param name="devices">This silo's devices.</param>
    /// <param name="context">The silo's grain context accessor: lets <see cref="Acquire"/> re-place its caller.</param>
    /// <param name="logger">Logs re-placements.</param>
    /// <param name="time">The clock for reservation timeouts.</param>
    public DeviceLeases(
        IReadOnlyList<string> devices,
        IGrainContextAccessor? context = null,
        ILogger<DeviceLeases>? logger = null,
        TimeProvider? time = null
    )
    {
        ArgumentNullException.ThrowIfNull(devices);
        if (devices.Distinct(StringComparer.Ordinal).Count() != devices.Count)
            throw new ArgumentException($"devices listed twice: {string.Join(", ", devices)}", nameof(devices));
        Devices = devices.ToArray();
        _context = context;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>This silo's devices in the order declared ("cuda:0", "cuda:1" or "cpu:0", ...).</summary>
    public IReadOnlyList<string> Devices { get; }

    /// <summary>Activations that landed here without a device and went back to placement (stale locations).</summary>
    public long Relocations => Interlocked.Read(ref _relocations);

    /// <summary>
    /// Reserves a device for <paramref name="grain"/> (the one it already holds or reserved, else the first free one)
    /// and returns it, or null when all are taken.
    /// </summary>
    public string? TryReserve(GrainId grain)
    {
        lock (_lock)
        {
            ExpireReservations();
            if (HeldBy(grain) is { } held)
                return held;
            string? free = Devices.FirstOrDefault(d => !_byDevice.ContainsKey(d));
            if (free is null)
                return null;
            _byDevice[free] = new Lease(grain, Confirmed: false, _time.GetUtcNow() + ReservationTimeout, default);
            return free;
        }
    }

    /// <summary>
    /// The device for <paramref name="grain"/>, called from its OnActivateAsync: its reservation, else a free device.
    /// With none free here the activation is on a stale location (the directory cache sent it here without asking
    /// the placement director): inside an activation this deactivates it and throws, so Orleans re-routes the
    /// waiting calls through placement, which finds a free device elsewhere or fails them with
    /// <see cref="NoFreeDeviceException"/>. Outside an activation it throws <see cref="NoFreeDeviceException"/>.
    /// </summary>
    public string Acquire(GrainId grain)
    {
        lock (_lock)
        {
            ExpireReservations();
            string? device = HeldBy(grain) ?? Devices.FirstOrDefault(d => !_byDevice.ContainsKey(d));
            if (device is not null)
            {
                // Bound to the confirming activation (none outside one): its end frees the device.
                ActivationId owner =
                    _context?.GrainContext is { } me && me.GrainId == grain ? me.ActivationId : default;
                _byDevice[device] = new Lease(grain, Confirmed: true, DateTimeOffset.MaxValue, owner);
                return device;
            }
        }

        string busy = Describe();
        if (_context?.GrainContext is { } activation && activation.GrainId == grain)
        {
            Interlocked.Increment(ref _relocations);
            _logger?.LogInformation(
                "{Grain} activated on a silo without a free device ({Busy}): re-placing it",
                grain,
                busy
            );
            // A deactivation reason without an exception makes Orleans re-route the queued calls (placement runs
            // again) instead of failing them; the cancellation below only ends this activation attempt.
            activation.Deactivate(
                new DeactivationReason(
                    DeactivationReasonCode.ApplicationRequested,
                    "no free device on this silo; re-placing"
                )
            );
            throw new OperationCanceledException($"{grain}: no free device on this silo ({busy}); re-placing");
        }
        throw new NoFreeDeviceException($"no free device for {grain}: this silo's devices are all leased ({busy})");
    }

    /// <summary>Gives back the device <paramref name="grain"/> holds or reserved; nothing if none.</summary>
    public void Release(GrainId grain)
    {
        lock (_lock)
        {
            if (HeldBy(grain) is { } device)
                _byDevice.Remove(device);
        }
    }

    /// <summary>
    /// An activation of <paramref name="grain"/> was created on this silo: it takes over the grain's reservation, so
    /// that the reservation ends with it (<see cref="OnActivationEnded"/>) instead of lapsing. A reservation another
    /// activation holds stays with that one.
    /// </summary>
    public void OnActivationCreated(GrainId grain, ActivationId activation)
    {
        lock (_lock)
        {
            if (HeldBy(grain) is { } device && _byDevice[device] is { Confirmed: false } lease && lease.Owner.IsDefault)
                _byDevice[device] = lease with { ExpiresAt = DateTimeOffset.MaxValue, Owner = activation };
        }
    }

    /// <summary>
    /// An activation of <paramref name="grain"/> ended (deactivated, failed to activate, or lost a duplicate-activation
    /// race): frees the device it reserved or confirmed, if it still does. A lease of a newer activation, or a fresh
    /// reservation that none has taken over yet, stays.
    /// </summary>
    public void OnActivationEnded(GrainId grain, ActivationId activation)
    {
        string? device;
        lock (_lock)
        {
            device = HeldBy(grain);
            if (device is null || _byDevice[device].Owner != activation)
                return;
            _byDevice.Remove(device);
            Interlocked.Increment(ref _endedHolding);
        }
        _logger?.LogInformation(
            "{Grain} ({Activation}) ended holding {Device} without releasing it: freed",
            grain,
            activation,
            device
        );
    }

    /// <summary>Activations that ended still holding a device (freed then, not when a reservation lapsed).</summary>
    public long FreedAtActivationEnd => Interlocked.Read(ref _endedHolding);

    /// <summary>Every device with its holder (null when free) and whether the holder has confirmed it.</summary>
    public IReadOnlyList<DeviceLease> Snapshot()
    {
        lock (_lock)
        {
            ExpireReservations();
            return Devices
                .Select(d =>
                    _byDevice.TryGetValue(d, out Lease lease)
                        ? new DeviceLease(d, lease.Holder, lease.Confirmed)
                        : new DeviceLease(d, null, false)
                )
                .ToArray();
        }
    }

    private string Describe() => string.Join(", ", Snapshot().Select(l => $"{l.Device} held by {l.Holder}"));

    private string? HeldBy(GrainId grain)
    {
        foreach ((string device, Lease lease) in _byDevice)
        {
            if (lease.Holder == grain)
                return device;
        }
        return null;
    }

    private void ExpireReservations()
    {
        DateTimeOffset now = _time.GetUtcNow();
        foreach ((string device, Lease lease) in _byDevice.ToArray())
        {
            if (lease.ExpiresAt < now)
                _byDevice.Remove(device);
        }
    }

    /// <param name="Owner">The activation that took the lease over (default: none yet, a fresh reservation).</param>
    private readonly record struct Lease(GrainId Holder, bool Confirmed, DateTimeOffset ExpiresAt, ActivationId Owner);
}

/// <summary>One device of a silo: who holds it (null: free) and whether the holder's activation confirmed it.</summary>
[GenerateSerializer, Immutable, Alias("AlignCluster.Hosting.DeviceLease")]
public sealed record DeviceLease(
    [property: Id(0)] string Device,
    [property: Id(1)] GrainId? Holder,
    [property: Id(2)] bool Confirmed
);
