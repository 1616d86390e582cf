using AlignCluster.Contracts;
using Orleans.Placement;

namespace AlignCluster.Grains.PromptShard;

/// <summary>
/// A slice of a run's prompts (key "{runId}/shard-{i}"), persisted after every change. Turn-based (not reentrant):
/// its state changes one request at a time. Placed by consistent hash, so shards spread over the silos.
/// </summary>
[HashBasedPlacement]
public sealed class PromptShardGrain([PersistentState("shard")] IPersistentState<ShardState> state)
    : Grain,
        IPromptShardGrain
{
    private ShardService Service => new(state.State);

    public async Task LoadSliceAsync(ShardSlice slice)
    {
        Service.Load(slice);
        await state.WriteStateAsync();
    }

    public Task<PromptGroup[]> GetTrainingItemsAsync(int round) => Task.FromResult(Service.TrainingItems());

    public Task<PromptGroup[]> GetUnscoredAsync() => Task.FromResult(Service.Unscored());

    public async Task CacheReferenceLogProbsAsync(GroupScores[] scores)
    {
        Service.CacheReference(scores);
        await state.WriteStateAsync();
    }

    public async Task RecordSelectionsAsync(int round, SelectionRecord[] selections)
    {
        Service.Record(round, selections);
        await state.WriteStateAsync();
    }

    public async Task<MergeReport> MergeCandidatesAsync(
        int round,
        Candidate[][] candidatesPerPrompt,
        string[] promptIds,
        int cap
    )
    {
        var report = Service.Merge(round, candidatesPerPrompt, promptIds, cap);
        await state.WriteStateAsync();
        return report;
    }

    public Task<ShardReport> ReportAsync() => Task.FromResult(Service.Report(this.GetPrimaryKeyString()));
}
