using Microsoft.Extensions.Logging;

namespace AlignCluster.Hosting.Placement;

/// <summary>
/// The devices of this silo and which grain holds each (one grain per device). The placement director reserves a
/// device on the silo it picks; the grain confirms it with <see cref="Acquire"/> in OnActivateAsync and gives it
/// back with <see cref="Release"/> on deactivation. A reservation that no activation confirms within
/// <see cref="ReservationTimeout"/> lapses (the placed activation never started).
/// </summary>
public sealed class DeviceLeases
{
    /// <summary>Unconfirmed reservations lapse after this long.</summary>
    public static readonly TimeSpan ReservationTimeout = TimeSpan.FromSeconds(60);

    private readonly object _lock = new();
    private readonly Dictionary<string, Lease> _byDevice = new(StringComparer.Ordinal);
    private readonly ILogger<DeviceLeases>? _logger;
    private readonly TimeProvider _time;
    private readonly IGrainContextAccessor? _context;
    private long _relocations;

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
            _byDevice[free] = new Lease(grain, Confirmed: false, _time.GetUtcNow() + ReservationTimeout);
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
                _byDevice[device] = new Lease(grain, Confirmed: true, DateTimeOffset.MaxValue);
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
            if (!lease.Confirmed && lease.ExpiresAt < now)
                _byDevice.Remove(device);
        }
    }

    private readonly record struct Lease(GrainId Holder, bool Confirmed, DateTimeOffset ExpiresAt);
}

/// <summary>One device of a silo: who holds it (null: free) and whether the holder's activation confirmed it.</summary>
[GenerateSerializer, Immutable, Alias("AlignCluster.Hosting.DeviceLease")]
public sealed record DeviceLease(
    [property: Id(0)] string Device,
    [property: Id(1)] GrainId? Holder,
    [property: Id(2)] bool Confirmed
);
