namespace AlignCluster.Contracts;

/// <summary>
/// Owns a slice of a run's prompts (key = "{runId}/shard-{i}"): candidate texts as token ids, ratings, cached
/// reference log-probs and the selection history. Persisted after every change.
/// </summary>
[Alias("AlignCluster.IPromptShardGrain")]
public interface IPromptShardGrain : IGrainWithStringKey
{
    /// <summary>Replaces the slice (run preparation). Candidates keep their cached reference log-probs if
    /// given.</summary>
    [Alias("LoadSlice"), ResponseTimeout(LongCall.Timeout)]
    Task LoadSliceAsync(ShardSlice slice);

    /// <summary>This round's training items: every prompt with all its candidates, chosen marked.</summary>
    [Alias("GetTrainingItems")]
    Task<PromptGroup[]> GetTrainingItemsAsync(int round);

    /// <summary>Candidates whose reference log-prob is not cached yet (computed once, then kept).</summary>
    [Alias("GetUnscored")]
    Task<PromptGroup[]> GetUnscoredAsync();

    /// <summary>Caches reference log-probs (scores are in candidate order of the groups from <see
    /// cref="GetUnscoredAsync"/>).</summary>
    [Alias("CacheReferenceLogProbs")]
    Task CacheReferenceLogProbsAsync(GroupScores[] scores);

    /// <summary>Records the trainer's selections (per round or per step) for the history and change rate.</summary>
    [Alias("RecordSelections")]
    Task RecordSelectionsAsync(int round, SelectionRecord[] selections);

    /// <summary>Merges rated, freshly generated candidates (deduplicated; at most <paramref name="cap"/> per
    /// prompt).</summary>
    [Alias("MergeCandidates")]
    Task<MergeReport> MergeCandidatesAsync(int round, Candidate[][] candidatesPerPrompt, string[] promptIds, int cap);

    /// <summary>Counts and the fraction of prompts whose negative changed in the last round.</summary>
    [Alias("Report")]
    Task<ShardReport> ReportAsync();
}
