using AlignCluster.Grains.Checkpoints;
using AlignCluster.Grains.Coordinator;
using AlignCluster.Hosting.Checkpoints;
using AlignCluster.Hosting.Placement;
using AlignCluster.Hosting.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AlignCluster.Grains.Hosting;

/// <summary>Options of the coordinator grains of a silo.</summary>
/// <param name="AutoResume">Continue Preparing/Running runs when their coordinator activates (after a crash). Off for
/// read-only tools (status, eval, export) that must not start training as a side effect.</param>
public sealed record CoordinatorOptions(bool AutoResume = true);

/// <summary>
/// What a silo needs to host the cluster's grains (the embedded default, src/Silo, and the tests' silos): grain state
/// in files under STATE/grains (atomic, ETag = version), checkpoints under STATE/checkpoints, the devices trainers
/// lease, reminders, and Orleans' activity propagation so one trace spans client, coordinator, shards and trainers.
/// </summary>
public static class ClusterSetup
{
    /// <summary>The grain storage every grain's [PersistentState] uses.</summary>
    public const string StorageName = "Default";

    /// <summary>Registers the grains' services over the state directory <paramref name="stateDirectory"/>.</summary>
    /// <param name="devices">The devices this silo declares ("cuda:0", "cpu:0", …): one trainer each.</param>
    public static ISiloBuilder AddAlignCluster(
        this ISiloBuilder silo,
        string stateDirectory,
        IReadOnlyList<string> devices,
        CoordinatorOptions? coordinator = null
    )
    {
        string directory = Path.GetFullPath(stateDirectory);
        silo.AddFileGrainStorage(StorageName, Path.Combine(directory, "grains"));
        silo.UseInMemoryReminderService();
        silo.Services.TryAddSingleton<ICheckpointStorage>(new LocalCheckpointStorage(CheckpointDirectory(directory)));
        return silo.AddAlignClusterGrains(devices, coordinator);
    }

    /// <summary>
    /// The grains' services without storage: for hosts that wired grain storage (named <see cref="StorageName"/>),
    /// reminders and <see cref="ICheckpointStorage"/> themselves, e.g. with <c>UseAlignClusterStorage</c> on Azure.
    /// </summary>
    public static ISiloBuilder AddAlignClusterGrains(
        this ISiloBuilder silo,
        IReadOnlyList<string> devices,
        CoordinatorOptions? coordinator = null
    )
    {
        silo.AddActivityPropagation();
        silo.Services.AddSingleton(services => new CheckpointStore(services.GetRequiredService<ICheckpointStorage>()));
        silo.Services.AddSingleton(services => new PreparationCache(services.GetRequiredService<ICheckpointStorage>()));
        silo.Services.AddSingleton(coordinator ?? new CoordinatorOptions());
        silo.AddDevices(devices); // silo metadata + the per-silo lease + the [DevicePlacement] director
        return silo;
    }

    /// <summary>Where checkpoints of a state directory live.</summary>
    public static string CheckpointDirectory(string stateDirectory) =>
        Path.Combine(Path.GetFullPath(stateDirectory), "checkpoints");
}
