namespace AlignCluster.Grains.Policy;

/// <summary>A response to score or train on: prompt and response token ids (the response includes its end
/// token).</summary>
public readonly record struct Sequence(int[] Prompt, int[] Response);

/// <summary>
/// What a trainer needs from a policy, whatever computes it: sequence log-probs without gradients, gradients of
/// weighted sequence log-probs, an optimizer step, seeded sampling, and its state as named tensors for checkpoints.
/// Losses are applied outside (they only need per-sequence log-probs), so any policy works with any loss.
/// </summary>
public interface IPolicyModel
{
    /// <summary>toy | hf; written into checkpoints.</summary>
    string Kind { get; }

    /// <summary>Sum of response-token log-probs of each sequence (prompt tokens masked), no gradients.</summary>
    double[] LogProbs(IReadOnlyList<Sequence> sequences);

    /// <summary>Adds Σ_i weight_i · ∂logp(sequence_i)/∂θ to the gradient buffer (the chain rule through a
    /// loss).</summary>
    void AccumulateGradient(IReadOnlyList<Sequence> sequences, IReadOnlyList<double> weights);

    /// <summary>
    /// Data-parallel replicas: replaces the accumulated gradient by its sum over the replicas of <paramref
    /// name="group"/>
    /// (every replica calls it before each optimizer step, in the same order). No-op for the group of one.
    /// </summary>
    void SumGradient(Training.TrainerGroup group);

    /// <summary>Clips the gradient to the configured global norm, takes an AdamW step that *descends* it, clears it;
    /// returns the norm before clipping.</summary>
    double OptimizerStep(double learningRate);

    /// <summary>Samples a response (end token included when produced) and returns it with its log-prob at temperature
    /// 1.</summary>
    (int[] Response, double LogProb) Sample(int[] prompt, double temperature, int maxNewTokens, SeededRandom random);

    /// <summary>
    /// One response per prompt (end token included when produced), <paramref name="seeds"/>[i] fixing row i's draws
    /// — or, for policies that decode a batch at once, the first seed fixing the whole batch (same request, same
    /// responses). The default samples row by row.
    /// </summary>
    int[][] SampleBatch(
        IReadOnlyList<int[]> prompts,
        IReadOnlyList<ulong> seeds,
        double temperature,
        int maxNewTokens
    ) =>
        prompts
            .Select((prompt, i) => Sample(prompt, temperature, maxNewTokens, new SeededRandom(seeds[i])).Response)
            .ToArray();

    /// <summary>
    /// Log-probs of <paramref name="sequences"/>, then adds Σ_i w_i·∂logp_i/∂θ to the gradient buffer with
    /// w = <paramref name="lossGradient"/>(logps) (∂loss/∂logp). Returns the log-probs. Policies that keep the autograd
    /// graph of the scoring pass do this with one forward; the default scores, then back-propagates a second pass.
    /// </summary>
    double[] LogProbsAndGradient(IReadOnlyList<Sequence> sequences, Func<double[], double[]> lossGradient)
    {
        var logps = LogProbs(sequences);
        AccumulateGradient(sequences, lossGradient(logps));
        return logps;
    }

    /// <summary>An independent copy of the weights, without optimizer state (the frozen reference).</summary>
    IPolicyModel Snapshot();

    /// <summary>Weights and optimizer state as named float arrays with shapes (safetensors-ready), plus a
    /// config.</summary>
    PolicyState Save();

    /// <summary>Restores what <see cref="Save"/> returned.</summary>
    void Load(PolicyState state);
}

/// <summary>A named tensor: shape and row-major values.</summary>
public sealed record NamedTensor(string Name, long[] Shape, float[] Values);

/// <summary>A policy's persisted form: HF-style config (JSON) and tensors (weights, then "optimizer.*").</summary>
public sealed record PolicyState(string ConfigJson, IReadOnlyList<NamedTensor> Tensors);
