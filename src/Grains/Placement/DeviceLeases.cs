namespace AlignCluster.Grains.Placement;

/// <summary>
/// The devices this silo declares ("cuda:0", or CPU "devices" "cpu:0" …) and which trainer activation holds each: one
/// trainer per device. A trainer takes its lease when it activates and gives it back when it deactivates.
/// </summary>
public sealed class DeviceLeases(IReadOnlyList<string> devices)
{
    private readonly Dictionary<string, GrainId> _holders = [];

    public IReadOnlyList<string> Devices { get; } = devices;

    /// <summary>The device <paramref name="grain"/> holds, leasing the first free one if it holds none.</summary>
    /// <exception cref="NoFreeDeviceException">Every device of this silo is held by another trainer.</exception>
    public string Acquire(GrainId grain)
    {
        lock (_holders)
        {
            foreach (var (device, holder) in _holders)
                if (holder == grain) return device;
            foreach (var device in Devices)
                if (_holders.TryAdd(device, grain)) return device;
            throw new NoFreeDeviceException(Devices.Count == 0
                ? $"no free device for trainer {grain.Key}: this silo declares no devices"
                : $"no free device for trainer {grain.Key}: all {Devices.Count} device(s) of this silo " +
                  $"({string.Join(", ", Devices)}) hold other trainers; declare more devices or lower training.trainers");
        }
    }

    /// <summary>Frees the device <paramref name="grain"/> holds (none: nothing happens).</summary>
    public void Release(GrainId grain)
    {
        lock (_holders)
            foreach (var (device, holder) in _holders.ToList())
                if (holder == grain) _holders.Remove(device);
    }

    /// <summary>Every device with the trainer holding it (null: free), in the order declared (the live view's table).</summary>
    public IReadOnlyList<(string Device, GrainId? Holder)> Snapshot()
    {
        lock (_holders)
            return Devices.Select(d => (d, _holders.TryGetValue(d, out var h) ? h : (GrainId?)null)).ToArray();
    }

    /// <summary>Devices held now (for status and tests).</summary>
    public int Held
    {
        get { lock (_holders) return _holders.Count; }
    }
}

/// <summary>A trainer found no free device: serializable, so the caller sees this message.</summary>
[GenerateSerializer, Alias("AlignCluster.NoFreeDeviceException")]
public sealed class NoFreeDeviceException(string message) : Exception(message);
