using AlignCluster.Interfaces;

namespace AlignCluster.Grains.Demo;

/// <summary>
/// MPPO's point-wise losses read a candidate's rating as a probability-like score s ∈ [0, 1] (point_ce:
/// −[s·log p + (1−s)·log(1−p)]; point_mse: (s − p)²), but ratings come on any scale (1–10 judge scores, −rank, an
/// oracle's fraction). The shards keep the raw ratings; the groups handed to the trainer for these losses carry
/// them min-max rescaled within each prompt's candidate set.
/// </summary>
public static class UnitScores
{
    /// <summary>The losses whose ratings must lie in [0, 1].</summary>
    public static readonly IReadOnlySet<string> PointLosses = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "point_ce", "point_mse" };

    /// <summary>
    /// Per group: s_i = (r_i − min r) / (max r − min r); a group whose ratings are all equal gets 0.5 for every candidate
    /// (no preference either way). Order, and so the chosen and every "rated below" relation, is unchanged.
    /// </summary>
    public static double[] Rescale(IReadOnlyList<double> ratings)
    {
        if (ratings.Count == 0) return [];
        double min = ratings.Min(), max = ratings.Max();
        return max > min ? ratings.Select(r => (r - min) / (max - min)).ToArray() : ratings.Select(_ => 0.5).ToArray();
    }

    /// <summary>The groups with rescaled ratings when <paramref name="loss"/> is a point loss; otherwise the groups as they are.</summary>
    public static PromptGroup[] ForLoss(string loss, PromptGroup[] groups) => !PointLosses.Contains(loss) ? groups
        : groups.Select(g =>
        {
            var scores = Rescale(g.Candidates.Select(c => c.Rating).ToList());
            return g with { Candidates = g.Candidates.Select((c, i) => c with { Rating = scores[i] }).ToArray() };
        }).ToArray();
}
