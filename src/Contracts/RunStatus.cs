namespace AlignCluster.Contracts;

/// <summary>Lifecycle of a run. Created → Preparing → Running ⇄ Paused → Completed | Cancelled | Failed.</summary>
[GenerateSerializer, Alias("AlignCluster.RunState")]
public enum RunState
{
    Created,
    Preparing,
    Running,
    Paused,
    Completed,
    Cancelled,
    Failed,
}

/// <summary>Held-out evaluation of the policy against the SFT reference.</summary>
/// <param name="OracleReward">Mean reward of policy samples (the oracle / reward function).</param>
/// <param name="ReferenceOracleReward">Mean reward of reference (SFT) samples on the same prompts.</param>
/// <param name="WinRate">Adjusted win-rate vs the reference: (wins + ties/2) / n (MC-PO §6.1).</param>
/// <param name="KlToReference">KL(π_θ‖π_sft) ≈ mean over policy samples of logp_θ(y) − logp_sft(y) (EXO §4.1).</param>
/// <param name="Samples">Policy samples rated; 0 when the reward function does not apply to the run's texts (then the
/// oracle reward, win-rate and KL are not measured and read 0).</param>
/// <param name="Preference">Preference data (data.source file): held-out preference accuracy and implicit-reward
/// margins.</param>
[GenerateSerializer, Alias("AlignCluster.EvalResult")]
public sealed record EvalResult(
    double OracleReward,
    double ReferenceOracleReward,
    double WinRate,
    double KlToReference,
    int Samples,
    PreferenceEval? Preference = null
);

/// <summary>
/// How the policy ranks the held-out prompts' own candidates, with DPO's implicit reward r(y) = β·(logπ_θ(y|x) −
/// logπ_ref(y|x))
/// (TRL's rewards/accuracies and rewards/margins, on data never trained on). A pair is the chosen and one candidate
/// rated strictly below it.
/// </summary>
/// <param name="Pairs">(chosen, lower-rated) pairs over the held-out prompts.</param>
/// <param name="Accuracy">Fraction of pairs with r(chosen) &gt; r(rejected) (a tie counts as 0).</param>
/// <param name="MeanMargin">Mean of r(chosen) − r(rejected) over the pairs.</param>
/// <param name="MeanChosenReward">Mean r(chosen) over the pairs.</param>
/// <param name="MeanRejectedReward">Mean r(rejected) over the pairs.</param>
/// <param name="Beta">β of the implicit reward.</param>
[GenerateSerializer, Alias("AlignCluster.PreferenceEval")]
public sealed record PreferenceEval(
    int Pairs,
    double Accuracy,
    double MeanMargin,
    double MeanChosenReward,
    double MeanRejectedReward,
    double Beta
);

/// <summary>What one round did.</summary>
/// <param name="Mean">Step metrics averaged over the round's steps (Pairs and Tokens: summed).</param>
/// <param name="SelectionChangeRate">Fraction of prompts whose selected negative changed since the previous
/// round.</param>
/// <param name="KernelEntropy">Mean entropy (nats) of the selection distribution over the prompts selected for in the
/// round, whether selection ran per round or per step (the shards' records of what was picked).</param>
/// <param name="StepSeconds">Wall time of each of <paramref name="Steps"/> on the trainer (null in reports from before
/// it
/// was measured).</param>
[GenerateSerializer, Alias("AlignCluster.RoundReport")]
public sealed record RoundReport(
    int Round,
    StepMetrics Mean,
    StepMetrics[] Steps,
    double SelectionChangeRate,
    int CandidatesAdded,
    EvalResult? Eval,
    string? CheckpointKey,
    double Seconds,
    double KernelEntropy = 0,
    double[]? StepSeconds = null
);

/// <summary>Where a run stands; everything a client needs for a progress display and a summary.</summary>
/// <param name="Round">Rounds completed.</param>
/// <param name="Baseline">Evaluation of the starting (SFT) policy, before any preference round.</param>
/// <param name="Restarts">Rounds retried from the last checkpoint after a failure (e.g. a trainer's silo lost).</param>
/// <param name="Resumed">Times the run was picked up again by a new coordinator activation that found it running
/// (the coordinator's silo was lost, or the whole cluster restarted).</param>
[GenerateSerializer, Alias("AlignCluster.RunStatus")]
public sealed record RunStatus(
    string RunId,
    RunState State,
    int Round,
    int TotalRounds,
    string Phase,
    RoundReport[] History,
    EvalResult? Baseline,
    SftReport? Sft,
    int PromptsSkipped,
    string? Error,
    int Restarts = 0,
    int Resumed = 0
);

/// <summary>What `aligncluster eval` reports: a checkpoint's round, how many held-out prompts, the
/// evaluation.</summary>
[GenerateSerializer, Alias("AlignCluster.CheckpointEval")]
public sealed record CheckpointEval(string RunId, int Round, int HeldOutPrompts, EvalResult Result);

/// <summary>Where a run's grains are active right now (`status`): silo addresses, null where none is active.</summary>
/// <param name="Coordinator">The silo of the run's coordinator (the one answering).</param>
/// <param name="Trainers">The silo of each trainer replica "{run}/trainer-{r}", r = 0 … training.trainers − 1.</param>
[GenerateSerializer, Alias("AlignCluster.RunPlacement")]
public sealed record RunPlacement(string Coordinator, string?[] Trainers);
