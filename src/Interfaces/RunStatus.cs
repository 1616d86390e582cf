using AlignCluster.Runtime;

namespace AlignCluster.Interfaces;

/// <summary>Lifecycle of a run. Created → Preparing → Running ⇄ Paused → Completed | Cancelled | Failed.</summary>
[GenerateSerializer]
public enum RunState { Created, Preparing, Running, Paused, Completed, Cancelled, Failed }

/// <summary>Held-out evaluation of the policy against the SFT reference.</summary>
/// <param name="OracleReward">Mean reward of policy samples (the oracle / reward function).</param>
/// <param name="ReferenceOracleReward">Mean reward of reference (SFT) samples on the same prompts.</param>
/// <param name="WinRate">Adjusted win-rate vs the reference: (wins + ties/2) / n (MC-PO §6.1).</param>
/// <param name="KlToReference">KL(π_θ‖π_sft) ≈ mean over policy samples of logp_θ(y) − logp_sft(y) (EXO §4.1).</param>
[GenerateSerializer]
public sealed record EvalResult(double OracleReward, double ReferenceOracleReward, double WinRate, double KlToReference, int Samples);

/// <summary>What one round did.</summary>
/// <param name="Mean">Step metrics averaged over the round's steps.</param>
/// <param name="SelectionChangeRate">Fraction of prompts whose selected negative changed since the previous round.</param>
[GenerateSerializer]
public sealed record RoundReport(int Round, StepMetrics Mean, StepMetrics[] Steps, double SelectionChangeRate,
    int CandidatesAdded, EvalResult? Eval, string? CheckpointKey, double Seconds);

/// <summary>Where a run stands; everything a client needs for a progress display and a summary.</summary>
/// <param name="Round">Rounds completed.</param>
/// <param name="Baseline">Evaluation of the starting (SFT) policy, before any preference round.</param>
[GenerateSerializer]
public sealed record RunStatus(string RunId, RunState State, int Round, int TotalRounds, string Phase,
    RoundReport[] History, EvalResult? Baseline, SftReport? Sft, int PromptsSkipped, string? Error);
