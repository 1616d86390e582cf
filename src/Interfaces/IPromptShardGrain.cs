namespace AlignCluster.Interfaces;

/// <summary>
/// Owns a slice of a run's prompts (key = "{runId}/shard-{i}"): candidate texts as token ids, ratings, cached
/// reference log-probs and the selection history. Persisted after every change.
/// </summary>
public interface IPromptShardGrain : AlignCluster.Runtime.IGrainWithStringKey
{
    /// <summary>Replaces the slice (run preparation). Candidates keep their cached reference log-probs if given.</summary>
    Task LoadSliceAsync(ShardSlice slice);

    /// <summary>This round's training items: every prompt with all its candidates, chosen marked.</summary>
    Task<PromptGroup[]> GetTrainingItemsAsync(int round);

    /// <summary>Candidates whose reference log-prob is not cached yet (computed once, then kept).</summary>
    Task<PromptGroup[]> GetUnscoredAsync();

    /// <summary>Caches reference log-probs (scores are in candidate order of the groups from <see cref="GetUnscoredAsync"/>).</summary>
    Task CacheReferenceLogProbsAsync(GroupScores[] scores);

    /// <summary>
    /// Per-round selection: applies the selector to current-policy scores and returns training examples
    /// (chosen first, then the negatives). Records the selection.
    /// </summary>
    Task<PromptGroup[]> ApplySelectionAsync(int round, SelectionSpec selection, GroupScores[] policyScores, ulong seed);

    /// <summary>Records selections made elsewhere (per-step selection in the trainer) for the history and change rate.</summary>
    Task RecordSelectionsAsync(int round, SelectionRecord[] selections);

    /// <summary>Merges rated, freshly generated candidates (deduplicated; at most <paramref name="cap"/> per prompt).</summary>
    Task<MergeReport> MergeCandidatesAsync(int round, Candidate[][] candidatesPerPrompt, string[] promptIds, int cap);

    /// <summary>Counts and the fraction of prompts whose negative changed in the last round.</summary>
    Task<ShardReport> ReportAsync();
}
