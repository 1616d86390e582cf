using AlignCluster.Alignment.Evaluation;

namespace AlignCluster.Alignment.Tests.Evaluation;

public class EvaluationTests
{
    [Fact]
    public void AdjustedWinRateCountsTiesAsHalf()
    {
        var rate = new WinRate(CandidateWins: 6, BaselineWins: 2, Ties: 2);
        Assert.Equal(0.7, rate.Adjusted, 12); // (6 + 1) / 10
        Assert.Equal(
            rate,
            WinRate.From([
                .. Enumerable.Repeat(Verdict.CandidateWins, 6),
                .. Enumerable.Repeat(Verdict.BaselineWins, 2),
                Verdict.Tie,
                Verdict.Tie,
            ])
        );
        // Outcomes 1×6, 0×2, 0.5×2 around 0.7: Σ(x−p)² = 6·0.09 + 2·0.49 + 2·0.04 = 1.6; se = √(1.6/9/10).
        Assert.Equal(Math.Sqrt(1.6 / 9 / 10), rate.StandardError, 12);
        Assert.True(double.IsNaN(new WinRate(0, 0, 0).Adjusted));
    }

    [Fact]
    public void SeedStatisticsByHand()
    {
        var stats = SeedStatistics.Of([1, 2, 3, 6]);
        Assert.Equal(3, stats.Mean, 12);
        // sample variance = (4 + 1 + 0 + 9) / 3 = 14/3; se = √(14/3 / 4)
        Assert.Equal(Math.Sqrt(14.0 / 3 / 4), stats.StandardError!.Value, 12);
        Assert.Null(SeedStatistics.Of([5]).StandardError);
        var oracle = SeedStatistics.OracleReward([
            [1, 3],
            [4, 6],
        ]); // seed means 2 and 5
        Assert.Equal(3.5, oracle.Mean, 12);
        Assert.Equal(1.5, oracle.StandardError!.Value, 12); // sd = √4.5, se = √4.5/√2 = 1.5
    }

    [Fact]
    public void KlEstimateAndFrontier()
    {
        Assert.Equal(1.5, RewardKlFrontier.EstimateKl([-10, -20], [-12, -21]), 12);
        var point = RewardKlFrontier.Point("ckpt", [-10, -20], [-12, -21], [0.5, 1.5]);
        Assert.Equal(new FrontierPoint("ckpt", 1.5, 1.0), point);
        var frontier = RewardKlFrontier.ParetoFrontier([
            new("a", 1, 1),
            new("b", 2, 0.5),
            new("c", 3, 2),
            new("d", 0.5, 0.2),
            new("e", 3, 1.8),
        ]);
        Assert.Equal(["d", "a", "c"], frontier.Select(p => p.Label)); // b and e are dominated
    }
}
