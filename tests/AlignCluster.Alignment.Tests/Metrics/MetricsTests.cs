using AlignCluster.Alignment.Losses;
using AlignCluster.Alignment.Metrics;
using TorchSharp;
using static TorchSharp.torch;
using M = AlignCluster.Alignment.Metrics.PreferenceMetrics;

namespace AlignCluster.Alignment.Tests.Metrics;

public class MetricsTests
{
    [Fact]
    public void TrlMetricsByHand()
    {
        // Prompt A: ρ_w = −1 − (−2) = 1, ρ_l = −3 − (−3) = 0 → margin β·1 > 0.
        // Prompt B: ρ_w = −5 − (−4) = −1, ρ_l = −2 − (−3) = 1 → margin β·(−2) < 0.
        var metrics = M.Compute(
            [
                [-1, -3],
                [-5, -2],
            ],
            [
                [-2, -3],
                [-4, -3],
            ],
            beta: 0.5
        );
        Assert.Equal(0.0, metrics[M.RewardsChosen], 12); // β·mean(1, −1)
        Assert.Equal(0.25, metrics[M.RewardsRejected], 12); // β·mean(0, 1)
        Assert.Equal(-0.25, metrics[M.RewardsMargins], 12); // β·mean(1, −2)
        Assert.Equal(0.5, metrics[M.RewardsAccuracies], 12);
        Assert.Equal(-3.0, metrics[M.LogpsChosen], 12);
        Assert.Equal(-2.5, metrics[M.LogpsRejected], 12);
        Assert.Equal(0.0, metrics[M.NormalizedRewardsChosen], 12);
        Assert.Equal(0.5, metrics[M.NormalizedRewardsRejected], 12);
    }

    [Fact]
    public void SeveralNegativesCountEachPair()
    {
        // ρ_w = 1; negatives ρ = 2 and 0: one pair right, one wrong.
        var metrics = M.Compute(
            [
                [1, 2, 0],
            ],
            [
                [0, 0, 0],
            ],
            beta: 1
        );
        Assert.Equal(0.5, metrics[M.RewardsAccuracies], 12);
        Assert.Equal(1.0, metrics[M.RewardsRejected], 12);
        Assert.Equal(0.0, metrics[M.RewardsMargins], 12);
    }

    [Fact]
    public void FractionChangedComparesSetsOverPromptsSeenTwice()
    {
        var before = new Dictionary<string, int[]>
        {
            ["a"] = [1],
            ["b"] = [2, 3],
            ["c"] = [1],
        };
        var after = new Dictionary<string, int[]>
        {
            ["a"] = [2],
            ["b"] = [3, 2],
            ["c"] = [1],
            ["new"] = [4],
        };
        // only "a" changed; "new" not compared
        Assert.Equal(1.0 / 3, SelectionMetrics.FractionChanged(before, after), 12);
        Assert.Equal(0, SelectionMetrics.FractionChanged(new Dictionary<string, int[]>(), after));
    }

    [Fact]
    public void MeanKernelEntropyAverages()
    {
        double[] zeros = [0, 0, 0];
        // Uniform over 2 rejected → ln 2; one-hot → 0; mean = ln 2 / 2.
        var entropy = SelectionMetrics.MeanKernelEntropy([(zeros, zeros, 0), ([0, 0, 1000], zeros, 0)], beta: 1);
        Assert.Equal(Math.Log(2) / 2, entropy, 12);
    }

    [Fact]
    public void TensorBatchGivesTheSameMetrics()
    {
        using var scope = torch.NewDisposeScope();
        var batch = new LossBatch(
            torch.tensor(new double[] { -1.0, -3, -5, -2 }, [2, 2]),
            torch.tensor(new double[] { -2.0, -3, -4, -3 }, [2, 2])
        );
        Assert.Equal(
            M.Compute(
                [
                    [-1, -3],
                    [-5, -2],
                ],
                [
                    [-2, -3],
                    [-4, -3],
                ],
                beta: 0.5
            ),
            M.Compute(batch, beta: 0.5)
        );
    }
}
