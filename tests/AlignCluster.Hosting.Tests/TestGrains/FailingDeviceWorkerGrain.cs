using AlignCluster.Hosting.Placement;

namespace AlignCluster.Hosting.Tests.TestGrains;

/// <summary>
/// A device-pinned grain whose activation fails, as a trainer's does when its state cannot be read (before it confirms
/// its device) or when building its policy on the device throws (after): key "before-confirm" or "after-confirm".
/// </summary>
public interface IFailingDeviceWorkerGrain : IGrainWithStringKey
{
    Task<WorkerPlace> Where();
}

[DevicePlacement]
public sealed class FailingDeviceWorkerGrain(DeviceLeases leases) : Grain, IFailingDeviceWorkerGrain
{
    public const string Failure = "test activation failure";

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        string key = this.GetPrimaryKeyString();
        if (key.StartsWith("before-confirm", StringComparison.Ordinal))
            throw new InvalidOperationException($"{Failure} before confirming a device");
        leases.Acquire(this.GetGrainId());
        throw new InvalidOperationException($"{Failure} after confirming a device");
    }

    // Never runs for an activation that failed: what it holds must be freed without it.
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        leases.Release(this.GetGrainId());
        return Task.CompletedTask;
    }

    public Task<WorkerPlace> Where() => throw new InvalidOperationException("never activated");
}
