using AlignCluster.Runtime.Messaging;

namespace AlignCluster.Runtime.Activation;

/// <summary>
/// Exclusive leases of this silo's devices to device-pinned activations: one activation per device. A lease is
/// released when its activation is gone.
/// </summary>
internal sealed class DeviceLeases
{
    private readonly Dictionary<string, GrainId> _leased = new(StringComparer.Ordinal);

    /// <summary>Leases a free device of <paramref name="kind"/> from <paramref name="devices"/>, or returns null.</summary>
    public DeviceInfo? TryAcquire(GrainId grain, string kind, IReadOnlyList<DeviceInfo> devices)
    {
        lock (_leased)
        {
            foreach (var d in devices)
                if (d.Kind == kind && !_leased.ContainsKey(d.Id))
                {
                    _leased[d.Id] = grain;
                    return d;
                }
            return null;
        }
    }

    public void Release(DeviceInfo device, GrainId grain)
    {
        lock (_leased)
            if (_leased.TryGetValue(device.Id, out var holder) && holder == grain) _leased.Remove(device.Id);
    }

    /// <summary>The device kind a strategy asks for: its own, else "cuda" when any active silo has one, else "cpu".</summary>
    public static string ResolveKind(DevicePinnedPlacement strategy, MembershipSnapshot view) =>
        strategy.DeviceKind ?? (view.ActiveSilos.Any(s => s.Devices.Any(d => d.Kind == "cuda")) ? "cuda" : "cpu");
}
