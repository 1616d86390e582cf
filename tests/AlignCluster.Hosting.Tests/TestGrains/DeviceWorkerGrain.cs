using AlignCluster.Hosting.Placement;

namespace AlignCluster.Hosting.Tests.TestGrains;

/// <summary>A stand-in trainer: device-pinned, leases its device on activation, frees it on deactivation.</summary>
public interface IDeviceWorkerGrain : IGrainWithStringKey
{
    Task<WorkerPlace> Where();
    Task Leave();
}

[GenerateSerializer, Immutable, Alias("hosting-tests.WorkerPlace")]
public sealed record WorkerPlace([property: Id(0)] string Silo, [property: Id(1)] string Device);

[DevicePlacement]
public sealed class DeviceWorkerGrain(DeviceLeases leases, ILocalSiloDetails silo) : Grain, IDeviceWorkerGrain
{
    private string _device = "";

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _device = leases.Acquire(this.GetGrainId());
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        leases.Release(this.GetGrainId());
        return Task.CompletedTask;
    }

    public Task<WorkerPlace> Where() => Task.FromResult(new WorkerPlace(silo.SiloAddress.ToParsableString(), _device));

    public Task Leave()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}
