namespace AlignCluster.Contracts;

/// <summary>
/// Holds a policy and its frozen reference on one device (key = "{runId}/trainer-{rank}", placed device-pinned: one
/// per GPU, CPU "devices" where there is none). Scores candidates without gradients in large batches (a prompt's
/// candidates share the prompt), trains with a named loss, generates, and checkpoints.
/// </summary>
[Alias("AlignCluster.ITrainerGrain")]
public interface ITrainerGrain : IGrainWithStringKey
{
    /// <summary>Builds the policy (from scratch or a model directory); the reference is a frozen copy.</summary>
    [Alias("Initialize"), ResponseTimeout(LongCall.Timeout)]
    Task InitializeAsync(PolicySpec policy);

    /// <summary>Supervised fine-tuning on demonstrations; afterwards the reference is reset to the fine-tuned
    /// policy.</summary>
    [Alias("SupervisedFineTune"), ResponseTimeout(LongCall.Timeout)]
    Task<SftReport> SupervisedFineTuneAsync(SftRequest request);

    /// <summary>Sequence log-probs (sum over response tokens) of every candidate, no gradients.</summary>
    /// <param name="reference">Score under the frozen reference instead of the current policy.</param>
    [Alias("Score"), ResponseTimeout(LongCall.Timeout)]
    Task<GroupScores[]> ScoreAsync(PromptGroup[] groups, bool reference);

    /// <summary>
    /// Scores, under the frozen reference, every candidate of these shards that has no cached reference log-prob yet
    /// and caches the scores in their shard: candidates go from shard to trainer and back, never through the caller.
    /// </summary>
    /// <returns>How many candidates were scored.</returns>
    [Alias("CacheReference"), ResponseTimeout(LongCall.Timeout)]
    Task<int> CacheReferenceAsync(string[] shards);

    /// <summary>
    /// A round of preference steps: reads the round's groups from the shards, selects negatives as requested and
    /// trains with the named loss.
    /// </summary>
    [Alias("Train"), ResponseTimeout(LongCall.Timeout)]
    Task<TrainReport> TrainAsync(TrainRequest request);

    // Generation and rating happen here, next to the policy: sampled token ids go from the trainer to the shards, and
    // only counts and metrics come back to the caller (docs/cluster.md, "Data flow").

    /// <summary>
    /// A run's initial candidate sets: samples the prompts at each temperature (or takes the given groups), rates them
    /// with the run's reward function, adds the noise copies if asked, and loads each shard with its trainable groups.
    /// </summary>
    [Alias("PrepareCandidates"), ResponseTimeout(LongCall.Timeout)]
    Task<CandidateReport> PrepareCandidatesAsync(CandidateRequest request);

    /// <summary>An online round: for each shard, samples its prompts, rates the samples and merges them into the
    /// shard.</summary>
    [Alias("GenerateCandidates"), ResponseTimeout(LongCall.Timeout)]
    Task<MergeReport> GenerateCandidatesAsync(OnlineRequest request);

    /// <summary>Held-out sampling evaluation: policy and reference sampled with the same seeds, rated,
    /// compared.</summary>
    [Alias("EvaluateSamples"), ResponseTimeout(LongCall.Timeout)]
    Task<EvalResult> EvaluateSamplesAsync(SampleEvalRequest request);

    /// <summary>Writes policy weights, reference, optimizer and RNG state atomically under the run's checkpoint
    /// prefix.</summary>
    [Alias("Checkpoint"), ResponseTimeout(LongCall.Timeout)]
    Task<CheckpointInfo> CheckpointAsync(string runId, int round);

    /// <summary>Drops policy and reference from memory and frees the device (the activation ends). A later activation
    /// holds no weights and refuses work until <see cref="InitializeAsync"/> or <see cref="RestoreAsync"/>.</summary>
    [Alias("Release")]
    Task ReleaseAsync();

    /// <summary>Rank 0 of a data-parallel group to be formed: serves the group's rendezvous (a TCP store on a free
    /// port of this silo's host) and returns where the other replicas find it.</summary>
    [Alias("OpenRendezvous")]
    Task<Rendezvous> OpenRendezvousAsync(string groupId, int worldSize);

    /// <summary>Joins the data-parallel group; returns once every rank joined (call all ranks at once). The replicas
    /// must hold the same weights (same initialization or the same checkpoint). Leaves any earlier group.</summary>
    [Alias("JoinGroup"), ResponseTimeout(LongCall.Timeout)]
    Task JoinGroupAsync(TrainerGroupSpec spec);

    /// <summary>The data-parallel group this trainer holds weights in (null: none, or no weights since a
    /// re-activation).
    /// The coordinator asks every replica before group work: one that lost its group would leave the others waiting in
    /// a
    /// collective.</summary>
    [Alias("CurrentGroup")]
    Task<string?> CurrentGroupAsync();

    /// <summary>Restores the state written by <see cref="CheckpointAsync"/>; false when there is none.</summary>
    [Alias("Restore"), ResponseTimeout(LongCall.Timeout)]
    Task<bool> RestoreAsync(string runId, int round);
}
