using System.Collections.Concurrent;
using AlignCluster.Runtime.Storage;
using AlignCluster.Runtime.Testing;

namespace AlignCluster.Runtime.Tests.Core;

/// <summary>Shared helpers: a cluster with every test grain registered, and a probe grains report into.</summary>
internal static class Fixture
{
    /// <summary>Every grain class of this assembly (not AddAssembly: the allowlist tests declare deliberately bad
    /// grain interfaces that no class implements).</summary>
    public static RuntimeOptions Options(IStateStore? store = null)
    {
        var options = new RuntimeOptions().AddStateStore("Default", store ?? new MemoryStateStore());
        foreach (var type in typeof(Fixture).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(Grain)) && !t.IsAbstract))
            options.AddGrain(type);
        return options;
    }

    public static Task<InProcessCluster> StartAsync(int silos, RuntimeOptions? options = null) =>
        InProcessCluster.StartAsync(options ?? Options(), silos);

    /// <summary>Polls until <paramref name="condition"/> holds (10 s limit: a hang is a failure, not a timing claim).</summary>
    public static async Task WaitUntil(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"gave up waiting for: {what}");
            await Task.Delay(10);
        }
    }
}

/// <summary>Where test grains record what happened, keyed by grain key (unique per test, so tests run in parallel).</summary>
internal static class Probe
{
    private static readonly ConcurrentDictionary<string, ConcurrentQueue<string>> Events = new();
    private static readonly ConcurrentDictionary<string, TaskCompletionSource> Gates = new();

    public static void Record(string key, string what) => Events.GetOrAdd(key, _ => new()).Enqueue(what);

    public static string[] Of(string key) => Events.TryGetValue(key, out var q) ? [.. q] : [];

    public static Task Gate(string key) => Gates.GetOrAdd(key, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public static void Open(string key) => Gates.GetOrAdd(key, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}

public interface ICounterGrain : IGrainWithStringKey
{
    Task<int> Add(int amount);
    Task<int> Get();
    Task<string> WhereAmI();
    /// <summary>Changes the state without writing it (graceful deactivation must persist it).</summary>
    Task AddWithoutWriting(int amount);
    Task Deactivate();
}

[GenerateSerializer]
public sealed class CounterState
{
    [Id(0)] public int Total { get; set; }
}

public sealed class CounterGrain([PersistentState("counter")] IPersistentState<CounterState> state) : Grain, ICounterGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        Probe.Record(this.GetPrimaryKeyString(), $"activate:{state.State.Total}");
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        Probe.Record(this.GetPrimaryKeyString(), $"deactivate:{reason.ReasonCode}");
        return Task.CompletedTask;
    }

    public async Task<int> Add(int amount)
    {
        state.State.Total += amount;
        await state.WriteStateAsync();
        return state.State.Total;
    }

    public Task<int> Get() => Task.FromResult(state.State.Total);

    public Task<string> WhereAmI() => Task.FromResult(GrainContext.Silo.ToString());

    public Task AddWithoutWriting(int amount)
    {
        state.State.Total += amount;
        return Task.CompletedTask;
    }

    public Task Deactivate()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}

/// <summary>For serializer tests whose values hold no grain references.</summary>
internal sealed class NoGrainReferences : Serialization.IGrainReferenceFactory
{
    public object GetReference(Type grainInterface, Messaging.GrainId grainId) => throw new NotSupportedException();
}
