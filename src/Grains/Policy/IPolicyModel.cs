namespace AlignCluster.Grains.Policy;

/// <summary>A response to score or train on: prompt and response token ids (the response includes its end
/// token).</summary>
public readonly record struct Sequence(int[] Prompt, int[] Response);

/// <summary>
/// What a trainer needs from a policy, whatever computes it: sequence log-probs without gradients, a training step's
/// parts (<see cref="Forward"/>, <see cref="IForwardPass.Backward"/>, <see cref="ClipGradient"/>, <see cref="Step"/>),
/// seeded sampling, and its state as named tensors for checkpoints. Losses are applied outside (they only need
/// per-sequence log-probs), so any policy works with any loss; TrainerService.Step reads the step top to bottom.
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

    /// <summary>
    /// A training step's forward: the log-probs of <paramref name="sequences"/>, with what the backward needs kept
    /// (a libtorch policy's autograd graph, in the step's dispose scope) until the pass is disposed at the step's end.
    /// </summary>
    IForwardPass Forward(IReadOnlyList<Sequence> sequences);

    /// <summary>Clips the accumulated gradient to the configured global norm (0: no clipping); returns the norm before
    /// clipping (0 when nothing was accumulated).</summary>
    double ClipGradient();

    /// <summary>Takes an AdamW step that *descends* the accumulated gradient (∂loss/∂θ), then clears it; nothing to
    /// step when nothing was accumulated.</summary>
    void Step(double learningRate);

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

    /// <summary>An independent copy of the weights, without optimizer state (the frozen reference).</summary>
    IPolicyModel Snapshot();

    /// <summary>Weights and optimizer state as named float arrays with shapes (safetensors-ready), plus a
    /// config.</summary>
    PolicyState Save();

    /// <summary>Restores what <see cref="Save"/> returned.</summary>
    void Load(PolicyState state);
}

/// <summary>Shorthands over a step's parts, for callers that need no more than these (tests, tools).</summary>
public static class PolicySteps
{
    /// <summary>
    /// Log-probs of <paramref name="sequences"/>, then adds Σ_i w_i·∂logp_i/∂θ to the gradient buffer with
    /// w = <paramref name="lossGradient"/>(logps) (∂loss/∂logp): <see cref="IPolicyModel.Forward"/> and its backward in
    /// one call. Returns the log-probs.
    /// </summary>
    public static double[] LogProbsAndGradient(
        this IPolicyModel policy,
        IReadOnlyList<Sequence> sequences,
        Func<double[], double[]> lossGradient
    )
    {
        using var forward = policy.Forward(sequences);
        forward.Backward(lossGradient(forward.LogProbs));
        return forward.LogProbs;
    }

    /// <summary><see cref="IPolicyModel.ClipGradient"/>, then <see cref="IPolicyModel.Step"/>; returns the norm before
    /// clipping.</summary>
    public static double OptimizerStep(this IPolicyModel policy, double learningRate)
    {
        double norm = policy.ClipGradient();
        policy.Step(learningRate);
        return norm;
    }
}

/// <summary>A training forward's log-probs and its backward (<see cref="IPolicyModel.Forward"/>); disposing it frees
/// what the step allocated.</summary>
public interface IForwardPass : IDisposable
{
    /// <summary>Sum of response-token log-probs of each sequence, in order. // (B)</summary>
    double[] LogProbs { get; }

    /// <summary>Adds Σ_i weights_i · ∂logp_i/∂θ to the gradient buffer (weights = ∂loss/∂logp_i).</summary>
    void Backward(IReadOnlyList<double> weights);
}

/// <summary>The forward of a policy that back-propagates with a second pass (<see
/// cref="IPolicyModel.AccumulateGradient"/>).</summary>
public sealed class RescoringForwardPass(IPolicyModel policy, IReadOnlyList<Sequence> sequences) : IForwardPass
{
    public double[] LogProbs { get; } = policy.LogProbs(sequences);

    public void Backward(IReadOnlyList<double> weights) => policy.AccumulateGradient(sequences, weights);

    public void Dispose() { }
}

/// <summary>A named tensor: shape and row-major values.</summary>
public sealed record NamedTensor(string Name, long[] Shape, float[] Values);

/// <summary>A policy's persisted form: HF-style config (JSON) and tensors (weights, then "optimizer.*").</summary>
public sealed record PolicyState(string ConfigJson, IReadOnlyList<NamedTensor> Tensors);
