namespace AlignCluster.Alignment.Evaluation;

/// <summary>One point of EXO's oracle-reward vs KL plot (§4.1): a checkpoint's KL to the SFT policy and its
/// reward.</summary>
public sealed record FrontierPoint(string Label, double Kl, double Reward);

/// <summary>Reward-vs-KL frontier points (EXO §4.1).</summary>
public static class RewardKlFrontier
{
    /// <summary>
    /// Monte-Carlo <c>KL(π_θ ‖ π_sft) ≈ mean_i [logp_θ(y_i) − logp_sft(y_i)]</c> over samples <c>y_i ~ π_θ</c>
    /// (sequence log-probs of the policy's own samples under both models).
    /// </summary>
    public static double EstimateKl(IReadOnlyList<double> policyLogps, IReadOnlyList<double> sftLogps)
    {
        if (policyLogps.Count != sftLogps.Count || policyLogps.Count == 0)
            throw new ArgumentException("need the same, non-zero number of policy and SFT log-probs");
        double sum = 0;
        for (int i = 0; i < policyLogps.Count; i++)
            sum += policyLogps[i] - sftLogps[i];
        return sum / policyLogps.Count;
    }

    /// <summary>A checkpoint's point: estimated KL of its samples and their mean oracle reward.</summary>
    public static FrontierPoint Point(
        string label,
        IReadOnlyList<double> policyLogps,
        IReadOnlyList<double> sftLogps,
        IReadOnlyList<double> oracleRewards
    ) =>
        new(
            label,
            EstimateKl(policyLogps, sftLogps),
            oracleRewards.Count > 0 ? oracleRewards.Average() : throw new ArgumentException("no rewards")
        );

    /// <summary>
    /// The Pareto frontier: points not dominated by another with KL ≤ and reward ≥ (one strictly better),
    /// sorted by KL. This is the curve EXO plots per method.
    /// </summary>
    public static List<FrontierPoint> ParetoFrontier(IEnumerable<FrontierPoint> points)
    {
        var frontier = new List<FrontierPoint>();
        double bestReward = double.NegativeInfinity;
        foreach (var p in points.OrderBy(p => p.Kl).ThenByDescending(p => p.Reward))
        {
            if (p.Reward <= bestReward)
                continue;
            frontier.Add(p);
            bestReward = p.Reward;
        }
        return frontier;
    }
}
