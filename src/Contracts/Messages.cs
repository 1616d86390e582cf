namespace AlignCluster.Contracts;

// Messages that cross grain boundaries. Plain records of arrays and scalars so any binary serializer can carry them:
// token ids are int[], log-probabilities double[]. Nothing here holds a tensor or a live object.

/// <summary>One candidate response of a prompt, as the shard stores it.</summary>
/// <param name="CandidateId">Stable id within the prompt (e.g. "c3", "g2-1" for generated ones).</param>
/// <param name="TokenIds">Response token ids, including the end-of-sequence token when the response ended with
/// one.</param>
/// <param name="Rating">Oracle / reward-model / human rating; higher is better.</param>
/// <param name="ReferenceLogProb">Sum of reference-policy log-probs of the response tokens; null until scored (then
/// cached forever).</param>
[GenerateSerializer, Immutable, Alias("AlignCluster.Candidate")]
public sealed record Candidate(string CandidateId, int[] TokenIds, double Rating, double? ReferenceLogProb = null);

/// <summary>A prompt with its candidates. The chosen response is <c>Candidates[ChosenIndex]</c>.</summary>
/// <remarks>When a group is a training example (after selection) the chosen comes first (index 0) and the negatives
/// follow.</remarks>
[GenerateSerializer, Immutable, Alias("AlignCluster.PromptGroup")]
public sealed record PromptGroup(string PromptId, int[] PromptTokenIds, Candidate[] Candidates, int ChosenIndex);

/// <summary>Sequence log-probs of every candidate of one prompt, in candidate order.</summary>
[GenerateSerializer, Immutable, Alias("AlignCluster.GroupScores")]
public sealed record GroupScores(string PromptId, double[] LogProbs);

/// <summary>How rejected responses are picked (docs/alignment.md, MC-PO §6.3).</summary>
/// <param name="Strategy">mc | max | min | random | worst_rated | all.</param>
/// <param name="Negatives">M, the negatives per chosen (drawn without replacement).</param>
/// <param name="IncludeChosen">mc only: put the chosen in the categorical as in Algorithm 1 (drawing it gives no
/// gradient).</param>
/// <param name="PerStep">true: re-select on each batch just before its step (faithful); false: once at round
/// start.</param>
/// <param name="Beta">β of the kernel weights w_i ∝ exp(β·ρ(y_i)).</param>
[GenerateSerializer, Alias("AlignCluster.SelectionSpec")]
public sealed record SelectionSpec(string Strategy, int Negatives, bool IncludeChosen, bool PerStep, double Beta);

/// <summary>A loss of the registry by name with its hyper-parameters (β, ε, λ, γ, β_π, β_r, …).</summary>
[GenerateSerializer, Alias("AlignCluster.LossSpec")]
public sealed record LossSpec(string Name, IReadOnlyDictionary<string, double> Parameters)
{
    /// <summary>The parameter, or <paramref name="fallback"/> when it is not set.</summary>
    public double Get(string key, double fallback) => Parameters.TryGetValue(key, out var v) ? v : fallback;
}

/// <summary>The negatives picked for one prompt in one round or step.</summary>
[GenerateSerializer, Alias("AlignCluster.SelectionRecord")]
public sealed record SelectionRecord(string PromptId, string[] NegativeIds, double KernelEntropy);

/// <summary>Training metrics of one optimizer step, named after TRL's (docs/alignment.md "Metrics").</summary>
/// <param name="Pairs">(chosen, other candidate) pairs the step trained on, over all data-parallel replicas.</param>
/// <param name="Tokens">Prompt + response tokens the step's forward pass read, over all replicas.</param>
/// <remarks>Deterministic (a resumed or data-parallel run reports the same values); the step's wall time, a
/// measurement, travels beside it (<see cref="TrainReport.StepSeconds"/>).</remarks>
[GenerateSerializer, Alias("AlignCluster.StepMetrics")]
public sealed record StepMetrics(
    int Step,
    double Loss,
    double RewardsChosen,
    double RewardsRejected,
    double RewardsMargins,
    double RewardsAccuracies,
    double LogpsChosen,
    double LogpsRejected,
    double RhoChosen,
    double RhoRejected,
    double KernelEntropy,
    double GradNorm,
    int Pairs = 0,
    long Tokens = 0
)
{
    /// <summary>The metrics under their TRL names, for logs, plots and OpenTelemetry instruments.</summary>
    public IEnumerable<(string Name, double Value)> Named()
    {
        yield return ("loss", Loss);
        yield return ("rewards/chosen", RewardsChosen);
        yield return ("rewards/rejected", RewardsRejected);
        yield return ("rewards/margins", RewardsMargins);
        yield return ("rewards/accuracies", RewardsAccuracies);
        yield return ("logps/chosen", LogpsChosen);
        yield return ("logps/rejected", LogpsRejected);
        yield return ("rho/chosen", RhoChosen);
        yield return ("rho/rejected", RhoRejected);
        yield return ("kernel/entropy", KernelEntropy);
        yield return ("grad_norm", GradNorm);
    }
}

/// <summary>
/// A round of preference training. The trainer reads the round's groups from the shards itself (they never pass
/// through the coordinator), builds examples by the loss's shape, selects negatives with the MC kernel or another
/// selector (once at round start, or before each step), and trains.
/// </summary>
/// <param name="Shards">Keys of the run's prompt shards (<see cref="ShardKeys"/>), read in this order.</param>
/// <param name="Selection">How negatives are picked (ignored by whole-group losses).</param>
/// <param name="Seed">Derives the batch order and the per-step kernel draws; same seed, same steps.</param>
/// <param name="SelectionSeed">Derives the per-round kernel draws (with the round and the prompt id).</param>
/// <param name="Group">The data-parallel group the trainer must train in (null: alone); a trainer that is not in it
/// (re-activated since the group formed) refuses rather than train out of step with its replicas.</param>
[GenerateSerializer, Immutable, Alias("AlignCluster.TrainRequest")]
public sealed record TrainRequest(
    string RunId,
    int Round,
    string[] Shards,
    LossSpec Loss,
    SelectionSpec Selection,
    int BatchSize,
    double LearningRate,
    ulong Seed,
    ulong SelectionSeed,
    string? Group = null
);

/// <summary>The grain keys of a run's prompt shards and trainers: the one place their format is written.</summary>
public static class ShardKeys
{
    /// <summary>Shard <paramref name="index"/> of <paramref name="runId"/>: "{runId}/shard-{index}".</summary>
    public static string Of(string runId, int index) => $"{runId}/shard-{index}";

    /// <summary>Every shard key of a run with <paramref name="count"/> shards, in index order.</summary>
    public static string[] All(string runId, int count) => [.. Enumerable.Range(0, count).Select(i => Of(runId, i))];

    /// <summary>The shard of <paramref name="count"/> that owns a prompt: a stable hash (FNV-1a) of its id, so every
    /// process (coordinator or trainer) computes the same owner.</summary>
    public static int IndexOf(string promptId, int count)
    {
        uint h = 2166136261;
        foreach (char c in promptId)
            h = (h ^ c) * 16777619;
        return (int)(h % (uint)count);
    }
}

/// <summary>What a call to train did: per-step metrics and the negatives picked (per round or per step).</summary>
/// <param name="StepSeconds">Wall time of each step on the trainer (per-step selection scoring included; the slowest
/// replica's with data-parallel trainers): with the steps' pairs and tokens, the throughput.</param>
[GenerateSerializer, Immutable, Alias("AlignCluster.TrainReport")]
public sealed record TrainReport(StepMetrics[] Steps, SelectionRecord[] Selections, double[]? StepSeconds = null);

/// <summary>A supervised fine-tuning pass on demonstrations (prompt → response).</summary>
/// <param name="Group">As in <see cref="TrainRequest"/>.</param>
[GenerateSerializer, Immutable, Alias("AlignCluster.SftRequest")]
public sealed record SftRequest(
    PromptGroup[] Demonstrations,
    int Epochs,
    int BatchSize,
    double LearningRate,
    ulong Seed,
    string? Group = null
);

/// <summary>Mean negative log-likelihood per token of each SFT epoch.</summary>
[GenerateSerializer, Alias("AlignCluster.SftReport")]
public sealed record SftReport(double[] EpochLosses);

/// <summary>A prompt to generate for.</summary>
[GenerateSerializer, Immutable, Alias("AlignCluster.PromptRef")]
public sealed record PromptRef(string PromptId, int[] PromptTokenIds);

/// <summary>Sampling <paramref name="PerPrompt"/> responses per prompt at a temperature, seeded.</summary>
/// <param name="FromReference">Sample from the frozen reference (SFT) policy instead of the current one.</param>
[GenerateSerializer, Immutable, Alias("AlignCluster.GenerateRequest")]
public sealed record GenerateRequest(
    PromptRef[] Prompts,
    int PerPrompt,
    double Temperature,
    int MaxNewTokens,
    ulong Seed,
    bool FromReference = false
);

/// <summary>
/// A run's initial candidate sets, built on the trainer: <paramref name="Given"/> groups (a preference file), or
/// <paramref name="PerTemperature"/> samples per prompt at each of <paramref name="Temperatures"/> seeded with
/// <paramref name="Seeds"/> (one per temperature); rated with <paramref name="Reward"/>; with a corrupted copy of each
/// chosen when <paramref name="NoiseSeed"/> is set; the trainable groups loaded into <paramref name="Shards"/>
/// (<see cref="ShardKeys.IndexOf"/> picks each prompt's shard).
/// </summary>
[GenerateSerializer, Immutable, Alias("AlignCluster.CandidateRequest")]
public sealed record CandidateRequest(
    string RunId,
    string[] Shards,
    PromptRef[] Prompts,
    PromptGroup[]? Given,
    double[] Temperatures,
    int PerTemperature,
    int MaxNewTokens,
    ulong[] Seeds,
    ulong? NoiseSeed,
    RewardConfig Reward
);

/// <summary>What building the candidate sets did, in counts.</summary>
/// <param name="Built">Prompts that got at least one candidate.</param>
/// <param name="Untrainable">Built prompts left out: no candidate rated below the chosen.</param>
/// <param name="Groups">Groups loaded into the shards.</param>
[GenerateSerializer, Alias("AlignCluster.CandidateReport")]
public sealed record CandidateReport(int Built, int Untrainable, int Groups, int Candidates);

/// <summary>
/// An online round's new candidates: for each shard in order, <paramref name="PerPrompt"/> samples for each of its
/// prompts (seeded with <paramref name="Seed"/>), rated with <paramref name="Reward"/>, merged under
/// <paramref name="Cap"/>.
/// </summary>
[GenerateSerializer, Immutable, Alias("AlignCluster.OnlineRequest")]
public sealed record OnlineRequest(
    int Round,
    string[] Shards,
    int PerPrompt,
    double Temperature,
    int MaxNewTokens,
    ulong Seed,
    int Cap,
    RewardConfig Reward
);

/// <summary>Held-out sampling: <paramref name="PerPrompt"/> samples per prompt from the policy and from the
/// reference, with the same seed, rated with <paramref name="Reward"/>.</summary>
[GenerateSerializer, Immutable, Alias("AlignCluster.SampleEvalRequest")]
public sealed record SampleEvalRequest(
    PromptRef[] Prompts,
    int PerPrompt,
    double Temperature,
    int MaxNewTokens,
    ulong Seed,
    RewardConfig Reward
);

/// <summary>A sampled response with its log-prob under the current policy and under the reference.</summary>
[GenerateSerializer, Immutable, Alias("AlignCluster.GeneratedResponse")]
public sealed record GeneratedResponse(string PromptId, int[] TokenIds, double PolicyLogProb, double ReferenceLogProb);

/// <summary>How a trainer builds its policy.</summary>
/// <param name="Kind">toy (the demo's log-linear policy, plain C#) or hf (a Hugging Face directory via
/// AlignCluster.Models).</param>
/// <param name="Path">hf: the model directory; toy: unused.</param>
/// <param name="MaxPromptLength">toy: longest prompt the feature table covers.</param>
/// <param name="MaxResponseLength">Longest response, in tokens including the end token.</param>
[GenerateSerializer, Alias("AlignCluster.PolicySpec")]
public sealed record PolicySpec(
    string Kind,
    string? Path,
    int MaxPromptLength,
    int MaxResponseLength,
    ulong Seed,
    double WeightDecay = 0.0,
    double GradClip = 1.0
);

/// <summary>Where a checkpoint went and what it holds.</summary>
/// <param name="Key">Storage key prefix of the checkpoint (policy + optimizer + RNG).</param>
[GenerateSerializer, Alias("AlignCluster.CheckpointInfo")]
public sealed record CheckpointInfo(string RunId, int Round, string Key, long Bytes);

/// <summary>A shard's slice of the prompts of a run.</summary>
[GenerateSerializer, Immutable, Alias("AlignCluster.ShardSlice")]
public sealed record ShardSlice(string RunId, PromptGroup[] Groups);

/// <summary>What merging freshly generated, rated candidates did.</summary>
[GenerateSerializer, Alias("AlignCluster.MergeReport")]
public sealed record MergeReport(int Added, int Duplicates, int DroppedByCap);

/// <summary>A shard's state in numbers.</summary>
/// <param name="SelectionChangeRate">Fraction of prompts whose negative(s) changed since the previous round.</param>
/// <param name="Selected">Prompts selected for in <paramref name="LastRound"/> (per round or at any step of
/// it).</param>
/// <param name="KernelEntropy">Mean entropy (nats) of the selection distribution over those prompts (0 for the
/// deterministic strategies).</param>
/// <param name="Tokens">Tokens of the shard's training input: every prompt and all of its candidates
/// (throughput).</param>
[GenerateSerializer, Alias("AlignCluster.ShardReport")]
public sealed record ShardReport(
    string ShardKey,
    int Prompts,
    int Candidates,
    int MissingReference,
    int LastRound,
    double SelectionChangeRate,
    int Selected = 0,
    double KernelEntropy = 0,
    long Tokens = 0
);

/// <summary>Where the replicas of a data-parallel group meet: the TCP store rank 0 serves.</summary>
[GenerateSerializer, Alias("AlignCluster.Rendezvous")]
public sealed record Rendezvous(string Host, int Port);

/// <summary>A trainer's place in a data-parallel group: <paramref name="Rank"/> of <paramref name="WorldSize"/>,
/// meeting at <paramref name="Point"/> under the fresh name <paramref name="GroupId"/>.</summary>
[GenerateSerializer, Alias("AlignCluster.TrainerGroupSpec")]
public sealed record TrainerGroupSpec(string GroupId, int Rank, int WorldSize, Rendezvous Point);
