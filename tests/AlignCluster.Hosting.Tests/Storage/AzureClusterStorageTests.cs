using System.Diagnostics;
using AlignCluster.Hosting.Checkpoints;
using AlignCluster.Hosting.Storage;
using AlignCluster.Hosting.Tests.Infrastructure;
using AlignCluster.Hosting.Tests.TestGrains;
using Orleans.Configuration;

namespace AlignCluster.Hosting.Tests.Storage;

/// <summary>
/// The Azure storage mode against a private Azurite, with silos and a client built the way a silo host builds
/// them (UseOrleans + UseAlignClusterStorage): table clustering, blob grain state, table reminders, blob
/// checkpoints.
/// </summary>
public sealed class AzureClusterStorageTests(Azurite azurite) : IClassFixture<Azurite>
{
    private readonly string _id = Guid.NewGuid().ToString("N")[..8];

    private ClusterStorageOptions Options(int siloPort = 0, int gatewayPort = 0) =>
        new()
        {
            Mode = StorageMode.Azure,
            AzureConnectionString = azurite.ConnectionString,
            AzurePrefix = "t" + _id,
            ClusterId = "cluster-" + _id,
            ServiceId = "service-" + _id,
            SiloPort = siloPort,
            GatewayPort = gatewayPort,
        };

    [Fact]
    public async Task Grain_state_survives_a_full_cluster_restart_in_blob_storage()
    {
        await using (LoopbackCluster first = await StartAsync(silos: 1, epoch: "1"))
        {
            await first.Client.GetGrain<INotebookGrain>("n").Append("kept in a blob");
        }
        await using LoopbackCluster second = await StartAsync(silos: 1, epoch: "2");
        Assert.Equal(["kept in a blob"], (await second.Client.GetGrain<INotebookGrain>("n").Read()).Lines);
    }

    [Fact]
    public async Task A_reminder_reactivates_its_grain_after_a_full_cluster_restart()
    {
        var checkpoints = AzureBlobCheckpointStorage.FromConnectionString(
            azurite.ConnectionString,
            $"t{_id}-checkpoints"
        );
        await using (LoopbackCluster first = await StartAsync(silos: 2, epoch: "1"))
        {
            await first.Client.GetGrain<IAlarmGrain>("wake").Arm(TimeSpan.FromSeconds(2));
            Assert.True(await EventuallyExistsAsync(checkpoints, "alarm/wake/1"), "the armed reminder never ticked");
        }

        // A new cluster on the same tables: nobody calls the grain; only the reminder can wake it up.
        await using LoopbackCluster second = await StartAsync(silos: 2, epoch: "2");
        Assert.True(
            await EventuallyExistsAsync(checkpoints, "alarm/wake/2"),
            "the reminder did not re-activate the grain after the restart"
        );
    }

    /// <summary>Polls for a key; 120 s bounds a stuck cluster on a loaded machine (not a timing assertion).</summary>
    private static async Task<bool> EventuallyExistsAsync(ICheckpointStorage store, string key)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(120))
        {
            if (await store.ExistsAsync(key))
                return true;
            await Task.Delay(250);
        }
        return false;
    }

    private Task<LoopbackCluster> StartAsync(int silos, string epoch) =>
        LoopbackCluster.StartAsync(
            silos,
            (_, ports, silo) =>
            {
                silo.UseAlignClusterStorage(Options(ports.Silo, ports.Gateway));
                // A short reminder period so the test sees ticks; production keeps the 1-minute minimum.
                silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
            },
            client => client.UseAlignClusterStorage(Options()),
            new Dictionary<string, string?> { ["Epoch"] = epoch }
        );
}
