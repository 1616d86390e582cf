namespace AlignCluster.Contracts;

/// <summary>
/// One per run (key = run id). Owns the run's config and durable progress and drives its rounds:
/// prepare (policy, SFT, candidate sets, shards) → rounds of select / score / train / [generate] / evaluate /
/// checkpoint.
/// </summary>
/// <remarks>
/// Progress is persisted after every round, and a reminder re-activates the coordinator after a crash, which then
/// continues from the last checkpoint (no prompt state is lost: shards persist their own state).
/// All methods are idempotent with respect to the run state: starting a run that already exists with the same
/// config resumes it; with a different config it fails.
/// </remarks>
[Alias("AlignCluster.ICoordinatorGrain")]
public interface ICoordinatorGrain : IGrainWithStringKey
{
    /// <summary>Validates and stores the config, then starts (or, when progress exists, resumes) the run in the
    /// background.</summary>
    /// <exception cref="ArgumentException">The config is invalid, or differs from the one this run was started
    /// with.</exception>
    [Alias("Start")]
    Task<RunStatus> StartAsync(RunConfig config);

    /// <summary>Current state, rounds done, per-round reports.</summary>
    [Alias("GetStatus")]
    Task<RunStatus> GetStatusAsync();

    /// <summary>Which silo hosts this coordinator and each of the run's trainers now (nothing is activated for
    /// it).</summary>
    [Alias("GetPlacement")]
    Task<RunPlacement> GetPlacementAsync();

    /// <summary>Stops after the round in progress; progress stays persisted.</summary>
    [Alias("Pause")]
    Task<RunStatus> PauseAsync();

    /// <summary>Continues a paused (or crashed) run from its last checkpoint.</summary>
    [Alias("Resume")]
    Task<RunStatus> ResumeAsync();

    /// <summary>Stops after the round in progress and marks the run cancelled; it cannot be resumed.</summary>
    [Alias("Cancel")]
    Task<RunStatus> CancelAsync();

    /// <summary>
    /// Evaluates the checkpoint of <paramref name="round"/> (null: the newest) on the run's held-out prompts, in a
    /// trainer activation of its own (released afterwards), so the run's trainer is never disturbed.
    /// </summary>
    /// <exception cref="ArgumentException">The run does not exist or has no complete checkpoint for that
    /// round.</exception>
    [Alias("EvaluateCheckpoint"), ResponseTimeout(LongCall.Timeout)]
    Task<CheckpointEval> EvaluateCheckpointAsync(int? round);

    /// <summary>
    /// The files of the policy of the checkpoint of <paramref name="round"/> (null: the newest complete one) as an HF
    /// directory — `aligncluster export --cluster`. Names, keys and sizes only: the client reads the bytes in chunks
    /// with
    /// <see cref="ReadCheckpointChunkAsync"/>, so a policy of any size exports without a message over Orleans' limit.
    /// </summary>
    /// <exception cref="ArgumentException">The run does not exist or has no complete checkpoint for that
    /// round.</exception>
    [Alias("ExportCheckpoint"), ResponseTimeout(LongCall.Timeout)]
    Task<ExportedPolicy> ExportCheckpointAsync(int? round);

    /// <summary>At most <paramref name="count"/> (≤ 4 MiB) bytes of the run's checkpoint file <paramref name="key"/>
    /// from
    /// <paramref name="offset"/> on; fewer only at the end of the file.</summary>
    /// <exception cref="ArgumentException">The key is not one of this run's checkpoint files.</exception>
    [Alias("ReadCheckpointChunk")]
    Task<byte[]> ReadCheckpointChunkAsync(string key, long offset, int count);
}
