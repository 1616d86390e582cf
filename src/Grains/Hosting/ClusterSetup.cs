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
/// Registers the cluster's grains and the services they need with a runtime: what a silo host (embedded, or src/Silo
/// via <c>SiloHostBuilder.Create(args, runtime => ClusterSetup.AddTo(runtime))</c>) calls once at start. Messages
/// are marked [GenerateSerializer], so clients need only the grain interfaces.
/// </summary>
public static class ClusterSetup
{
    /// <summary>
    /// Adds the grains of this assembly and the services: a <see cref="CheckpointStore"/> over the runtime's "Default"
    /// store (looked up at first use, so a host may register the store after this call) and the coordinator options.
    /// </summary>
    public static RuntimeOptions AddTo(RuntimeOptions runtime, CoordinatorOptions? coordinator = null)
    {
        var store = new DeferredStore(() => runtime.GetStore("Default"));
        runtime.Services = new ServiceRegistry(runtime.Services)
            .Add(new CheckpointStore(store))
            .Add(new PreparationCache(store))
            .Add(coordinator ?? new CoordinatorOptions());
        return runtime.AddAssembly(typeof(CoordinatorGrain).Assembly);
    }

    /// <summary>Runtime options for an embedded silo over <paramref name="store"/>.</summary>
    public static RuntimeOptions SiloOptions(IStateStore store, CoordinatorOptions? coordinator = null) =>
        AddTo(new RuntimeOptions { ResponseTimeout = TimeSpan.FromMinutes(30) }.AddStateStore("Default", store), coordinator);

    /// <summary>Runtime options for a client: the grain interfaces.</summary>
    public static RuntimeOptions ClientOptions() =>
        new RuntimeOptions { ResponseTimeout = TimeSpan.FromMinutes(30) }.AddAssembly(typeof(ICoordinatorGrain).Assembly);
}

/// <summary>A store resolved at first use (the silo host registers its stores after the application's setup ran).</summary>
internal sealed class DeferredStore(Func<IStateStore> resolve) : IStateStore
{
    private readonly Lazy<IStateStore> _store = new(resolve);
    public string Name => _store.Value.Name;
    public Task<StoredRecord?> ReadAsync(string container, string key, CancellationToken ct = default) => _store.Value.ReadAsync(container, key, ct);
    public Task<string> WriteAsync(string container, string key, ReadOnlyMemory<byte> data, string? expectedEtag, CancellationToken ct = default) =>
        _store.Value.WriteAsync(container, key, data, expectedEtag, ct);
    public Task DeleteAsync(string container, string key, string? expectedEtag, CancellationToken ct = default) =>
        _store.Value.DeleteAsync(container, key, expectedEtag, ct);
    public IAsyncEnumerable<string> ListAsync(string container, string prefix = "", CancellationToken ct = default) =>
        _store.Value.ListAsync(container, prefix, ct);
}

/// <summary>A minimal service provider: one instance per type, falling back to an inner provider.</summary>
public sealed class ServiceRegistry(IServiceProvider? inner = null) : IServiceProvider
{
    private readonly Dictionary<Type, object> _services = [];

    public ServiceRegistry Add<T>(T instance) where T : notnull
    {
        _services[typeof(T)] = instance;
        return this;
    }

    public object? GetService(Type serviceType) => _services.GetValueOrDefault(serviceType) ?? inner?.GetService(serviceType);
}
