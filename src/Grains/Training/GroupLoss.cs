namespace AlignCluster.Grains.Training;

/// <summary>
/// Per-sequence inputs of a loss for one prompt: index 0 is the chosen response, 1.. the negatives (or the rest of
/// the group for the listwise losses, in any order).
/// </summary>
/// <param name="PolicyLogProbs">logp_θ(y_i), summed over response tokens.</param>
/// <param name="ReferenceLogProbs">logp_ref(y_i) (cached per candidate).</param>
/// <param name="Lengths">Response tokens of y_i.</param>
/// <param name="Ratings">Ratings of y_i (for the reward-weighted and score-aware losses).</param>
public sealed record LossInputs(double[] PolicyLogProbs, double[] ReferenceLogProbs, int[] Lengths, double[] Ratings)
{
    public int Count => PolicyLogProbs.Length;

    public double Rho(int i) => PolicyLogProbs[i] - ReferenceLogProbs[i];
}

/// <summary>A loss value for one prompt and its gradient with respect to every policy log-prob of <see
/// cref="LossInputs"/>.</summary>
public sealed record LossValue(double Loss, double[] GradientWrtPolicyLogProbs);
