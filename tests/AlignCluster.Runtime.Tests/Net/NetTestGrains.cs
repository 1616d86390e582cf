namespace AlignCluster.Runtime.Tests.Net;

/// <summary>A grain the multi-process tests load into real silo processes (via grainAssemblies).</summary>
public interface INetCounterGrain : IGrainWithStringKey
{
    /// <summary>Adds one and persists the count before returning it.</summary>
    Task<int> Increment();
    /// <summary>Waits <paramref name="milliseconds"/>, then increments (an in-flight call a kill -9 interrupts).</summary>
    Task<int> SlowIncrement(int milliseconds);
    Task<int> Get();
    /// <summary>The silo hosting this activation (host:port@generation).</summary>
    Task<string> WhereAmI();
}

[GenerateSerializer]
public sealed class NetCounterState
{
    public int Count { get; set; }
}

public sealed class NetCounterGrain([PersistentState("count")] IPersistentState<NetCounterState> state) : Grain, INetCounterGrain
{
    public async Task<int> Increment()
    {
        state.State.Count++;
        await state.WriteStateAsync();
        return state.State.Count;
    }

    public async Task<int> SlowIncrement(int milliseconds)
    {
        await Task.Delay(milliseconds);
        return await Increment();
    }

    public Task<int> Get() => Task.FromResult(state.State.Count);

    public Task<string> WhereAmI() => Task.FromResult(GrainContext.Silo.ToString());
}
