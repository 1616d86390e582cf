using AlignCluster.Contracts;

namespace AlignCluster.Grains.Training;

/// <summary>
/// MPPO's point-wise losses read a candidate's rating as a probability-like score s ∈ [0, 1] (point_ce:
/// −[s·log p + (1−s)·log(1−p)]; point_mse: (s − p)²), but ratings come on any scale (1–10 judge scores, −rank, an
/// oracle's fraction). The shards keep the raw ratings; the trainer rescales them min-max within each prompt's
/// candidate
/// set for a loss whose registry row says it reads unit scores.
/// </summary>
public static class UnitScores
{
    /// <summary>
    /// Per group: s_i = (r_i − min r) / (max r − min r); a group whose ratings are all equal gets 0.5 for every
    /// candidate
    /// (no preference either way). Order, and so the chosen and every "rated below" relation, is unchanged.
    /// </summary>
    public static double[] Rescale(IReadOnlyList<double> ratings)
    {
        if (ratings.Count == 0)
            return [];
        double min = ratings.Min(),
            max = ratings.Max();
        return max > min ? ratings.Select(r => (r - min) / (max - min)).ToArray() : ratings.Select(_ => 0.5).ToArray();
    }

    /// <summary>The groups with rescaled ratings when <paramref name="loss"/> reads unit scores; otherwise as they
    /// are.</summary>
    public static PromptGroup[] ForLoss(Alignment.Losses.LossSpec loss, PromptGroup[] groups) =>
        !loss.UnitScores
            ? groups
            : groups
                .Select(g =>
                {
                    var scores = Rescale(g.Candidates.Select(c => c.Rating).ToList());
                    return g with
                    {
                        Candidates = g.Candidates.Select((c, i) => c with { Rating = scores[i] }).ToArray(),
                    };
                })
                .ToArray();
}
