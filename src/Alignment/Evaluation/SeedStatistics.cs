namespace AlignCluster.Alignment.Evaluation;

/// <summary>Mean and standard error of a quantity measured once per seed (e.g. oracle reward of a run).</summary>
/// <param name="StandardError">Sample standard deviation (n − 1) / √n; null with fewer than 2 seeds.</param>
public sealed record SeedStatistics(double Mean, double? StandardError, int Seeds)
{
    public static SeedStatistics Of(IReadOnlyList<double> perSeed)
    {
        if (perSeed.Count == 0)
            throw new ArgumentException("need at least one seed");
        if (perSeed.Any(v => !double.IsFinite(v)))
            throw new ArgumentException("per-seed values must be finite");
        double mean = perSeed.Average();
        if (perSeed.Count < 2)
            return new SeedStatistics(mean, null, 1);
        double variance = perSeed.Sum(v => (v - mean) * (v - mean)) / (perSeed.Count - 1);
        return new SeedStatistics(mean, Math.Sqrt(variance / perSeed.Count), perSeed.Count);
    }

    /// <summary>Oracle reward over seeds: each seed's samples are averaged first, then the seed means are
    /// combined.</summary>
    public static SeedStatistics OracleReward(IReadOnlyList<IReadOnlyList<double>> rewardsPerSeed) =>
        Of(
            rewardsPerSeed
                .Select(rewards =>
                    rewards.Count > 0 ? rewards.Average() : throw new ArgumentException("a seed has no rewards")
                )
                .ToList()
        );
}
