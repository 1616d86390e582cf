using AlignCluster.Alignment.Losses;
using AlignCluster.Alignment.Tests.Reference;
using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Alignment.Tests.Losses;

/// <summary>Random but seeded groups of responses, as row-major arrays and as float64 tensors.</summary>
internal sealed class LossFixture
{
    public required int Prompts { get; init; }
    public required int Responses { get; init; }
    public required double[] Policy { get; init; }
    public required double[] Reference { get; init; }
    public required double[] Lengths { get; init; }
    public required double[] Scores { get; init; }

    /// <summary>
    /// Log-probs in [−40, −5] (so p = exp(logp/len) &lt; 1), reference within ±3 of the policy, 5–30 tokens, distinct
    /// scores in [0, 1] with the best in column 0 (the layout the losses expect).
    /// </summary>
    public static LossFixture Random(int seed, int prompts, int responses)
    {
        var rng = new System.Random(seed);
        int n = prompts * responses;
        var policy = Enumerable.Range(0, n).Select(_ => -5 - 35 * rng.NextDouble()).ToArray();
        var reference = policy.Select(p => p + 6 * rng.NextDouble() - 3).ToArray();
        var lengths = Enumerable.Range(0, n).Select(_ => (double)rng.Next(5, 31)).ToArray();
        var scores = new double[n];
        for (int b = 0; b < prompts; b++)
        {
            var row = Enumerable.Range(0, responses).Select(_ => rng.NextDouble()).OrderByDescending(s => s).ToArray();
            // keep the best first, shuffle the rest so score order differs from column order (tests list_mle's sort)
            var rest = row.Skip(1).OrderBy(_ => rng.Next()).ToArray();
            scores[b * responses] = row[0];
            for (int i = 1; i < responses; i++)
                scores[b * responses + i] = rest[i - 1];
        }
        return new LossFixture
        {
            Prompts = prompts,
            Responses = responses,
            Policy = policy,
            Reference = reference,
            Lengths = lengths,
            Scores = scores,
        };
    }

    public ScalarGroup Group(int b, double[]? policy = null)
    {
        double[] Row(double[] all) => all.Skip(b * Responses).Take(Responses).ToArray();
        return new ScalarGroup(Row(policy ?? Policy), Row(Reference), Row(Lengths), Row(Scores));
    }

    public LossBatch Batch(Tensor policy) =>
        new(
            policy,
            torch.tensor(Reference, [Prompts, Responses]),
            torch.tensor(Lengths, [Prompts, Responses]),
            torch.tensor(Scores, [Prompts, Responses])
        );

    public Tensor PolicyTensor(bool requiresGrad = false) =>
        torch.tensor(Policy, [Prompts, Responses]).requires_grad_(requiresGrad);

    /// <summary>The batch loss (mean over prompts) of the scalar reference.</summary>
    public double ScalarMean(string loss, ScalarHyper h, double[]? policy = null) =>
        Enumerable.Range(0, Prompts).Average(b => ScalarLosses.ByName[loss](Group(b, policy), h));
}

internal static class LossHypers
{
    /// <summary>Non-default hyper-parameters, so a test would notice a function ignoring one.</summary>
    public static readonly ScalarHyper Scalar = new(
        Beta: 0.3,
        Epsilon: 0.2,
        Lambda: 3,
        Gamma: 0.4,
        BetaPi: 0.7,
        BetaR: 0.25
    );

    /// <summary>The same values in the registry's names, restricted to those the loss takes.</summary>
    public static Dictionary<string, double> For(LossSpec spec)
    {
        var all = new Dictionary<string, double>
        {
            ["beta"] = Scalar.Beta,
            ["epsilon"] = Scalar.Epsilon,
            ["lambda"] = Scalar.Lambda,
            ["gamma"] = Scalar.Gamma,
            ["beta_pi"] = Scalar.BetaPi,
            ["beta_r"] = Scalar.BetaR,
        };
        return spec.Defaults.Keys.ToDictionary(k => k, k => all[k]);
    }
}
