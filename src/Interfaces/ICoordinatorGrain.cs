namespace AlignCluster.Interfaces;

/// <summary>
/// One per run (key = run id). Owns the run's config and durable progress and drives its rounds:
/// prepare (policy, SFT, candidate sets, shards) → rounds of select / score / train / [generate] / evaluate / checkpoint.
/// </summary>
/// <remarks>
/// Progress is persisted after every round, and a reminder re-activates the coordinator after a crash, which then
/// continues from the last checkpoint (no prompt state is lost: shards persist their own state).
/// All methods are idempotent with respect to the run state: starting a run that already exists with the same
/// config resumes it; with a different config it fails.
/// </remarks>
public interface ICoordinatorGrain : AlignCluster.Runtime.IGrainWithStringKey
{
    /// <summary>Validates and stores the config, then starts (or, when progress exists, resumes) the run in the background.</summary>
    /// <exception cref="ArgumentException">The config is invalid, or differs from the one this run was started with.</exception>
    Task<RunStatus> StartAsync(RunConfig config);

    /// <summary>Current state, rounds done, per-round reports.</summary>
    Task<RunStatus> GetStatusAsync();

    /// <summary>Stops after the round in progress; progress stays persisted.</summary>
    Task<RunStatus> PauseAsync();

    /// <summary>Continues a paused (or crashed) run from its last checkpoint.</summary>
    Task<RunStatus> ResumeAsync();

    /// <summary>Stops after the round in progress and marks the run cancelled; it cannot be resumed.</summary>
    Task<RunStatus> CancelAsync();
    /// <summary>
    /// Evaluates the checkpoint of <paramref name="round"/> (null: the newest) on the run's held-out prompts, in a
    /// trainer activation of its own (released afterwards), so the run's trainer is never disturbed.
    /// </summary>
    /// <exception cref="ArgumentException">The run does not exist or has no complete checkpoint for that round.</exception>
    Task<CheckpointEval> EvaluateCheckpointAsync(int? round);

    /// <summary>
    /// The policy of the checkpoint of <paramref name="round"/> (null: the newest complete one) as HF files, read from the
    /// silos' store — `aligncluster export --cluster`. The weights travel in this one reply, so a policy must fit the
    /// transport's message limit (256 MiB).
    /// </summary>
    /// <exception cref="ArgumentException">The run does not exist or has no complete checkpoint for that round.</exception>
    Task<ExportedPolicy> ExportCheckpointAsync(int? round);
}
