using AlignCluster.Grains.Checkpoints;
using AlignCluster.Grains.Grains;
using AlignCluster.Grains.Services;
using AlignCluster.Interfaces;
using AlignCluster.Runtime;
using AlignCluster.Runtime.Storage;

namespace AlignCluster.Grains.Hosting;

/// <summary>Options of the coordinator grains of a silo.</summary>
/// <param name="AutoResume">Continue Preparing/Running runs when their coordinator activates (after a crash). Off for
/// read-only tools (status, eval, export) that must not start training as a side effect.</param>
public sealed record CoordinatorOptions(bool AutoResume = true);

/// <summary>
/// Registers the cluster's grains, message types and services with a runtime: what a silo host (embedded or
/// src/Silo) and a client call once at start.
/// </summary>
public static class ClusterSetup
{
    /// <summary>Runtime options for a silo: grains of this assembly, the store as "Default", checkpoint store and coordinator options as services.</summary>
    public static RuntimeOptions SiloOptions(IStateStore store, CoordinatorOptions? coordinator = null)
    {
        var services = new ServiceRegistry()
            .Add(new CheckpointStore(store))
            .Add(coordinator ?? new CoordinatorOptions());
        var options = new RuntimeOptions { Services = services, ResponseTimeout = TimeSpan.FromMinutes(30) };
        options.AddStateStore("Default", store);
        options.AddAssembly(typeof(CoordinatorGrain).Assembly);
        return AddMessageTypes(options);
    }

    /// <summary>Runtime options for a client: the grain interfaces and message types.</summary>
    public static RuntimeOptions ClientOptions()
    {
        var options = new RuntimeOptions { ResponseTimeout = TimeSpan.FromMinutes(30) };
        options.AddAssembly(typeof(ICoordinatorGrain).Assembly);
        return AddMessageTypes(options);
    }

    private static RuntimeOptions AddMessageTypes(RuntimeOptions options)
    {
        foreach (var type in typeof(RunConfig).Assembly.GetTypes().Where(t => t.IsPublic && !t.IsInterface && !t.IsAbstract))
            options.AddMessageType(type);
        options.AddMessageType<ShardState>().AddMessageType<CoordinatorState>().AddMessageType<TrainerGrainState>();
        return options;
    }
}

/// <summary>A minimal service provider: one instance per type.</summary>
public sealed class ServiceRegistry : IServiceProvider
{
    private readonly Dictionary<Type, object> _services = [];

    public ServiceRegistry Add<T>(T instance) where T : notnull
    {
        _services[typeof(T)] = instance;
        return this;
    }

    public object? GetService(Type serviceType) => _services.GetValueOrDefault(serviceType);
}
