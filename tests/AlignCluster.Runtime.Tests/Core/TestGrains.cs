using System.Collections.Concurrent;

namespace AlignCluster.Runtime.Tests.Core;

public interface ICounterGrain : IGrainWithStringKey
{
    Task<int> Add(int amount);
    Task<int> Get();
    Task<string> WhereAmI();
}

[GenerateSerializer]
public sealed class CounterState
{
    public int Total { get; set; }
}

public sealed class CounterGrain([PersistentState("counter")] IPersistentState<CounterState> state) : Grain, ICounterGrain
{
    public async Task<int> Add(int amount)
    {
        state.State.Total += amount;
        await state.WriteStateAsync();
        return state.State.Total;
    }

    public Task<int> Get() => Task.FromResult(state.State.Total);

    public Task<string> WhereAmI() => Task.FromResult(GrainContext.Silo.ToString());
}
