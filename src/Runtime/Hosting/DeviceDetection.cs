using AlignCluster.Runtime.Messaging;

namespace AlignCluster.Runtime.Hosting;

/// <summary>
/// Finds the devices a silo offers for device-pinned placement. The runtime has no Torch dependency: a host that can
/// see CUDA (through the torch binding) registers a detector delegate; otherwise the silo declares CPU "devices".
/// </summary>
public static class DeviceDetection
{
    /// <summary>
    /// Configured devices win; else the detector's (when it finds any); else <paramref name="cpuDevices"/> CPU devices
    /// "cpu:0", "cpu:1", ….
    /// </summary>
    public static IReadOnlyList<DeviceInfo> Resolve(IReadOnlyList<DeviceInfo> configured, Func<IReadOnlyList<DeviceInfo>>? detector, int cpuDevices)
    {
        foreach (var d in configured)
            if (string.IsNullOrWhiteSpace(d.Id) || string.IsNullOrWhiteSpace(d.Kind))
                throw new InvalidOperationException("devices: every entry needs an id (e.g. cuda:0) and a kind (cuda, cpu)");
        var duplicate = configured.GroupBy(d => d.Id).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new InvalidOperationException($"devices: id '{duplicate.Key}' is listed twice");
        if (configured.Count > 0) return configured;
        if (detector?.Invoke() is { Count: > 0 } detected) return detected;
        return Enumerable.Range(0, cpuDevices).Select(i => new DeviceInfo($"cpu:{i}", "cpu")).ToArray();
    }
}
