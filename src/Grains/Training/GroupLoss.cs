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

/// <summary>A loss value for one prompt and its gradient with respect to every policy log-prob of <see cref="LossInputs"/>.</summary>
public sealed record LossValue(double Loss, double[] GradientWrtPolicyLogProbs);

/// <summary>
/// A preference loss as a function of per-sequence log-probs (docs/alignment.md), returning value and exact gradient.
/// The one implementation is <see cref="AlignmentGroupLoss"/>, over the alignment library's losses.
/// </summary>
public interface IGroupLoss
{
    string Name { get; }
    /// <summary>
    /// true: takes the whole candidate set of a prompt (MPPO's point/multi-pair/list losses, exo_rw, dpo_rw);
    /// false: the chosen and the selected negatives.
    /// </summary>
    bool WholeGroup { get; }
    /// <summary>
    /// For whole-group losses: true when candidates rated equal to the chosen belong to the group too (rewards or
    /// ranks over the whole set: exo_rw, dpo_rw, list_mle, point_*); false when only candidates rated below the
    /// chosen are negatives (MPPO's pair_* losses).
    /// </summary>
    bool IncludesTies { get; }
    LossValue Evaluate(LossInputs inputs);
}
