using System.Reflection;
using AlignCluster.Runtime.Storage;

namespace AlignCluster.Runtime;

/// <summary>
/// What a silo or client runtime knows: grain classes (silos), grain interfaces and message types (the
/// serialization allowlist), state stores, placement directors and timing. Build it once, then hand it to
/// <see cref="SiloRuntime"/> or <see cref="ClusterClient"/>; do not change it afterwards.
/// </summary>
public sealed class RuntimeOptions
{
    internal readonly List<Type> GrainClasses = [];
    internal readonly List<Type> GrainInterfaces = [];
    internal readonly List<Type> MessageTypes = [];
    internal readonly Dictionary<string, IStateStore> Stores = new(StringComparer.Ordinal);
    internal readonly Dictionary<Type, IPlacementDirector> Directors = [];

    /// <summary>Default per-call timeout (Orleans' ResponseTimeout); <see cref="ResponseTimeoutAttribute"/> overrides it per method.</summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>An activation idle for longer than this is deactivated.</summary>
    public TimeSpan CollectionAge { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long a graceful stop waits for each activation to deactivate (its running turn to end, OnDeactivateAsync,
    /// state written); one still busy then is abandoned and reported, so a grain method that never returns cannot hold
    /// the silo up forever (Orleans' DeactivationTimeout).</summary>
    public TimeSpan DeactivationTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often idle activations are looked for.</summary>
    public TimeSpan CollectionQuantum { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often each silo re-reads the reminder table to pick up reminders it now owns.</summary>
    public TimeSpan ReminderRefreshPeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Store holding the grain directory (single-activation records).</summary>
    public string DirectoryStoreName { get; set; } = "Default";

    /// <summary>Store holding durable reminders.</summary>
    public string ReminderStoreName { get; set; } = "Default";

    /// <summary>Where the runtime reports errors it cannot return to a caller (failed timer ticks, reminder ticks,
    /// OnDeactivateAsync). Default: standard error.</summary>
    public Action<string> Log { get; set; } = message => Console.Error.WriteLine(message);

    /// <summary>Services for grain constructor parameters (other than persistent states). Optional.</summary>
    public IServiceProvider? Services { get; set; }

    /// <summary>Registers a grain class (silos) and, with it, its grain interfaces and their message types.</summary>
    public RuntimeOptions AddGrain<TGrain>() where TGrain : Grain => AddGrain(typeof(TGrain));

    /// <summary>Registers a grain class by type.</summary>
    public RuntimeOptions AddGrain(Type grainClass)
    {
        if (!typeof(Grain).IsAssignableFrom(grainClass) || grainClass.IsAbstract)
            throw new ArgumentException($"{grainClass.FullName} is not a concrete class derived from Grain.", nameof(grainClass));
        if (!GrainClasses.Contains(grainClass)) GrainClasses.Add(grainClass);
        foreach (var i in grainClass.GetInterfaces().Where(IsGrainInterface)) AddGrainInterface(i);
        return this;
    }

    /// <summary>Registers a grain interface (clients; silos get them from their grain classes).</summary>
    public RuntimeOptions AddGrainInterface<TInterface>() where TInterface : IGrain => AddGrainInterface(typeof(TInterface));

    /// <summary>Registers a grain interface by type.</summary>
    public RuntimeOptions AddGrainInterface(Type grainInterface)
    {
        if (!IsGrainInterface(grainInterface))
            throw new ArgumentException($"{grainInterface.FullName} is not a grain interface (an interface deriving from IGrain).", nameof(grainInterface));
        if (!GrainInterfaces.Contains(grainInterface)) GrainInterfaces.Add(grainInterface);
        return this;
    }

    /// <summary>Registers every public concrete grain class and public grain interface of an assembly (grain
    /// references are generated proxies, so grain interfaces must be public anyway).</summary>
    public RuntimeOptions AddAssembly(Assembly assembly)
    {
        foreach (var t in assembly.GetExportedTypes())
        {
            if (IsGrainInterface(t)) AddGrainInterface(t);
            else if (t.IsClass && !t.IsAbstract && typeof(Grain).IsAssignableFrom(t)) AddGrain(t);
        }
        return this;
    }

    /// <summary>Allows a message type that is not marked [GenerateSerializer] or [Serializable] (e.g. a type from
    /// another library) to cross the wire or be stored.</summary>
    public RuntimeOptions AddMessageType<T>() => AddMessageType(typeof(T));

    /// <summary>Allows a message type by type.</summary>
    public RuntimeOptions AddMessageType(Type type)
    {
        if (!MessageTypes.Contains(type)) MessageTypes.Add(type);
        return this;
    }

    /// <summary>Registers a state store under a name ("Default" is used when a [PersistentState] names none).</summary>
    public RuntimeOptions AddStateStore(string name, IStateStore store)
    {
        Stores[name] = store;
        return this;
    }

    /// <summary>Registers the director for a (custom) placement strategy type, replacing any built-in one.</summary>
    public RuntimeOptions AddPlacementDirector<TStrategy>(IPlacementDirector director) where TStrategy : PlacementStrategy
    {
        Directors[typeof(TStrategy)] = director;
        return this;
    }

    /// <summary>The store registered under <paramref name="name"/>; throws naming the missing store otherwise.</summary>
    public IStateStore GetStore(string name) => Stores.TryGetValue(name, out var store) ? store
        : throw new InvalidOperationException($"No state store named '{name}' is registered (registered: {string.Join(", ", Stores.Keys.DefaultIfEmpty("none"))}). Call RuntimeOptions.AddStateStore(\"{name}\", store).");

    internal static bool IsGrainInterface(Type t) =>
        t.IsInterface && typeof(IGrain).IsAssignableFrom(t) && t != typeof(IGrain) && t != typeof(IGrainWithStringKey)
        && t != typeof(IGrainWithGuidKey) && t != typeof(IGrainWithIntegerKey) && t != typeof(IAddressable);
}
