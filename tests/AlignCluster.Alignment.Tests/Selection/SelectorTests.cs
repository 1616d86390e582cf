using AlignCluster.Alignment.Selection;
using AlignCluster.Alignment.Tests.Data;

namespace AlignCluster.Alignment.Tests.Selection;

public class SelectorTests
{
    // Five candidates; chosen = 0. ρ = policy − reference = [0.5, 2, −1, 0, 3]; with β = 0.5 the logits of the
    // rejected pool {1..4} are [1, −0.5, 0, 1.5].
    private static readonly double[] Policy = [-10.5, -8, -13, -11, -7];
    private static readonly double[] Reference = [-11, -10, -12, -11, -10];
    private const double Beta = 0.5;

    /// <summary>softmax of the given logits, computed directly (independent of the library).</summary>
    private static double[] Softmax(params double[] logits)
    {
        var e = logits.Select(Math.Exp).ToArray();
        return e.Select(x => x / e.Sum()).ToArray();
    }

    /// <summary>|observed − n·p| ≤ 5 binomial standard errors √(n p (1−p)): a false alarm has probability ≈ 6e-7 per
    /// check.</summary>
    private static void AssertFrequency(int observed, int n, double p, string what)
    {
        double se = Math.Sqrt(n * p * (1 - p));
        Assert.True(
            Math.Abs(observed - n * p) <= 5 * se,
            $"{what}: observed {observed}, expected {n * p:F1} ± {5 * se:F1}"
        );
    }

    private static int[] Counts(SelectionOptions options, int draws, int size)
    {
        var counts = new int[size];
        var rng = new SelectionRng(12345);
        for (int d = 0; d < draws; d++)
            foreach (int i in NegativeSelector.Select(options, Policy, Reference, 0, rng))
                counts[i]++;
        return counts;
    }

    [Fact]
    public void McFrequenciesMatchSoftmaxOfRejected()
    {
        const int n = 100_000;
        var counts = Counts(new SelectionOptions(SelectorKind.Mc, Beta), n, 5);
        var w = Softmax(1, -0.5, 0, 1.5);
        Assert.Equal(0, counts[0]);
        for (int k = 0; k < 4; k++)
            AssertFrequency(counts[k + 1], n, w[k], $"candidate {k + 1}");
    }

    [Fact]
    public void McWithChosenIncludesItAsInAlgorithm1()
    {
        const int n = 100_000;
        var counts = Counts(new SelectionOptions(SelectorKind.Mc, Beta, IncludeChosen: true), n, 5);
        var w = Softmax(0.25, 1, -0.5, 0, 1.5);
        for (int k = 0; k < 5; k++)
            AssertFrequency(counts[k], n, w[k], $"candidate {k}");
    }

    [Fact]
    public void McWithoutReplacementFollowsSequentialSampling()
    {
        // Drawing 2 without replacement: P(first = i, second = j) = w_i · w_j / (1 − w_i) (sequential categorical).
        const int n = 200_000;
        var w = Softmax(1, -0.5, 0, 1.5);
        var pairs = new int[4, 4];
        var rng = new SelectionRng(7);
        var options = new SelectionOptions(SelectorKind.Mc, Beta, Count: 2);
        for (int d = 0; d < n; d++)
        {
            var s = NegativeSelector.Select(options, Policy, Reference, 0, rng);
            Assert.Equal(2, s.Length);
            Assert.NotEqual(s[0], s[1]);
            pairs[s[0] - 1, s[1] - 1]++;
        }
        for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            if (i != j)
                AssertFrequency(pairs[i, j], n, w[i] * w[j] / (1 - w[i]), $"pair ({i + 1},{j + 1})");
    }

    [Fact]
    public void RandomIsUniformOverRejected()
    {
        const int n = 100_000;
        var counts = Counts(new SelectionOptions(SelectorKind.Random, Beta), n, 5);
        Assert.Equal(0, counts[0]);
        for (int k = 1; k < 5; k++)
            AssertFrequency(counts[k], n, 0.25, $"candidate {k}");
    }

    [Fact]
    public void SameSeedSameSelections()
    {
        var options = new SelectionOptions(SelectorKind.Mc, Beta, Count: 2);
        var a = Enumerable
            .Range(0, 50)
            .Select(r => NegativeSelector.Select(options, Policy, Reference, 0, SelectionRng.For(42, r, "p1")))
            .ToList();
        var b = Enumerable
            .Range(0, 50)
            .Select(r => NegativeSelector.Select(options, Policy, Reference, 0, SelectionRng.For(42, r, "p1")))
            .ToList();
        Assert.Equal(a, b);
        var c = Enumerable
            .Range(0, 50)
            .Select(r => NegativeSelector.Select(options, Policy, Reference, 0, SelectionRng.For(43, r, "p1")))
            .ToList();
        // 50 draws over 12 ordered pairs: identical sequences by chance are impossible in practice
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void MaxMinAndWorstRatedAreDeterministic()
    {
        double?[] quality = [9, 5, 1, 7, 3];
        for (ulong seed = 0; seed < 20; seed++)
        {
            var rng = new SelectionRng(seed);
            Assert.Equal([4], NegativeSelector.Select(new(SelectorKind.Max, Beta), Policy, Reference, 0, rng));
            Assert.Equal(
                [4, 1],
                NegativeSelector.Select(new(SelectorKind.Max, Beta, Count: 2), Policy, Reference, 0, rng)
            );
            Assert.Equal([2], NegativeSelector.Select(new(SelectorKind.Min, Beta), Policy, Reference, 0, rng));
            Assert.Equal(
                [2, 3],
                NegativeSelector.Select(new(SelectorKind.Min, Beta, Count: 2), Policy, Reference, 0, rng)
            );
            Assert.Equal(
                [2],
                NegativeSelector.Select(new(SelectorKind.WorstRated, Beta), Policy, Reference, 0, rng, quality)
            );
            Assert.Equal(
                [2, 4, 1],
                NegativeSelector.Select(
                    new(SelectorKind.WorstRated, Beta, Count: 3),
                    Policy,
                    Reference,
                    0,
                    rng,
                    quality
                )
            );
        }
    }

    [Fact]
    public void TiesGoToTheLowerIndex()
    {
        double[] flat = [0, 0, 0, 0];
        Assert.Equal([1], NegativeSelector.Select(new(SelectorKind.Max, 1), flat, flat, 0, new SelectionRng(1)));
        Assert.Equal([0], NegativeSelector.Select(new(SelectorKind.Min, 1), flat, flat, 3, new SelectionRng(1)));
    }

    [Fact]
    public void AllReturnsEveryRejectedAndCountIsCapped()
    {
        Assert.Equal(
            [0, 1, 3, 4],
            NegativeSelector.Select(new(SelectorKind.All, Beta), Policy, Reference, 2, new SelectionRng(1))
        );
        Assert.Equal(
            4,
            NegativeSelector
                .Select(new(SelectorKind.Mc, Beta, Count: 10), Policy, Reference, 0, new SelectionRng(1))
                .Length
        );
    }

    [Fact]
    public void WorstRatedWithoutRatingsIsAClearError()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            NegativeSelector.Select(new(SelectorKind.WorstRated), Policy, Reference, 0, new SelectionRng(1))
        );
        Assert.Contains("worst_rated", e.Message);
    }

    [Fact]
    public void KernelEntropyBounds()
    {
        double[] flat = [0, 0, 0, 0, 0];
        Assert.Equal(Math.Log(4), NegativeSelector.KernelEntropy(flat, flat, 0, 0.1), 12);
        // One candidate 1000 nats above the rest: the kernel is one-hot, entropy ≈ 0.
        Assert.Equal(0, NegativeSelector.KernelEntropy([0, 1000, 0, 0], [0, 0, 0, 0], 0, 1), 12);
        var w = Softmax(1, -0.5, 0, 1.5);
        Assert.Equal(-w.Sum(x => x * Math.Log(x)), NegativeSelector.KernelEntropy(Policy, Reference, 0, Beta), 12);
    }

    [Fact]
    public void SelectorNamesRoundTrip()
    {
        foreach (var kind in Enum.GetValues<SelectorKind>())
            Assert.Equal(kind, SelectorNames.Parse(SelectorNames.Name(kind)));
        Assert.Contains("worst_rated", Assert.Throws<ArgumentException>(() => SelectorNames.Parse("best")).Message);
    }

    [Fact]
    public void WorstRatedFromReadPromptUsesRanks()
    {
        var (prompts, _) = TempJsonl.Read(
            """{"prompt": "p", "answers": [{"answer": "a", "rank": 2}, {"answer": "b", "rank": 4}, {"answer": "c", "rank": 1}, {"answer": "d", "rank": 3}]}"""
        );
        var prompt = prompts[0];
        double[] zeros = [0, 0, 0, 0];
        Assert.Equal(2, prompt.ChosenIndex);
        Assert.Equal(
            [1, 3],
            prompt.Select(new SelectionOptions(SelectorKind.WorstRated, Count: 2), zeros, zeros, new SelectionRng(1))
        );
    }
}
