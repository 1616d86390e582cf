using AlignCluster.Hosting.Checkpoints;
using Microsoft.Extensions.Configuration;

namespace AlignCluster.Hosting.Tests.TestGrains;

/// <summary>
/// Arms a reminder; each tick writes "alarm/{key}/{epoch}" to the checkpoint store, where epoch is the silo's
/// configured "Epoch" (the test gives each cluster start a new one). A tick written by a later epoch means the
/// reminder re-activated the grain after a restart with no call from anyone.
/// </summary>
public interface IAlarmGrain : IGrainWithStringKey
{
    Task Arm(TimeSpan period);
}

public sealed class AlarmGrain(ICheckpointStorage checkpoints, IConfiguration configuration, ILocalSiloDetails silo)
    : Grain,
        IAlarmGrain,
        IRemindable
{
    public async Task Arm(TimeSpan period) =>
        await this.RegisterOrUpdateReminder("alarm", TimeSpan.FromSeconds(1), period);

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        string epoch = configuration["Epoch"] ?? "none";
        await checkpoints.WriteAsync(
            $"alarm/{this.GetPrimaryKeyString()}/{epoch}",
            System.Text.Encoding.UTF8.GetBytes(silo.SiloAddress.ToParsableString())
        );
    }
}
