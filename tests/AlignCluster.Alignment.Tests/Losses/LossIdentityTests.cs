using AlignCluster.Alignment.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Alignment.Tests.Losses;

/// <summary>The identities docs/alignment.md states, checked on the tensor implementations (values and
/// gradients).</summary>
public class LossIdentityTests
{
    private static (double Value, double[] Gradient) Run(
        Func<LossBatch, Tensor> loss,
        double[] policy,
        double[]? reference,
        double[]? lengths,
        double[]? scores,
        int k
    )
    {
        int b = policy.Length / k;
        var p = torch.tensor(policy, [b, k]).requires_grad_();
        Tensor? T(double[]? x) => x is null ? null : torch.tensor(x, [b, k]);
        var value = loss(new LossBatch(p, T(reference), T(lengths), T(scores))).mean();
        value.backward();
        return (value.ToDouble(), p.grad!.data<double>().ToArray());
    }

    private static void AssertSame((double Value, double[] Gradient) a, (double Value, double[] Gradient) b)
    {
        Assert.Equal(a.Value, b.Value, 12);
        Assert.Equal(a.Gradient.Length, b.Gradient.Length);
        for (int i = 0; i < a.Gradient.Length; i++)
            Assert.Equal(a.Gradient[i], b.Gradient[i], 12);
    }

    private static readonly double[] Policy = [-12, -15, -30, -22, -8, -9.5];
    private static readonly double[] Reference = [-13, -14, -28, -25, -8.5, -9];

    [Fact]
    public void CdWithOneNegativeEqualsDpo()
    {
        using var scope = torch.NewDisposeScope();
        AssertSame(
            Run(b => ContrastiveDivergenceLoss.Cd(b, 0.2), Policy, Reference, null, null, 2),
            Run(b => PairwiseLosses.Dpo(b, 0.2), Policy, Reference, null, null, 2)
        );
    }

    [Fact]
    public void PairMnmWithOneNegativeEqualsPairSingle()
    {
        using var scope = torch.NewDisposeScope();
        double[] lengths = [10, 12, 20, 15, 7, 9];
        AssertSame(
            Run(MppoLosses.PairMnm, Policy, null, lengths, null, 2),
            Run(MppoLosses.PairSingle, Policy, null, lengths, null, 2)
        );
    }

    [Fact]
    public void MinorDpoEqualsDpoWhenRejectedRatioIsNonNegative()
    {
        using var scope = torch.NewDisposeScope();
        // ρ_l = policy − reference of column 1: 1, 3, 0.5 (> 0: values and gradients agree).
        double[] policy = [-12, -13, -30, -22, -8, -8.5];
        double[] reference = [-13, -14, -28, -25, -8.5, -9];
        AssertSame(
            Run(b => PairwiseLosses.MinorDpo(b, 0.3), policy, reference, null, null, 2),
            Run(b => PairwiseLosses.Dpo(b, 0.3), policy, reference, null, null, 2)
        );
        // At ρ_l = 0 exactly the values agree; the gradients need not (max(0, ·) has a kink there).
        double[] boundary = [-12, -13, -30, -22, -8, -9];
        Assert.Equal(
            Run(b => PairwiseLosses.Dpo(b, 0.3), boundary, reference, null, null, 2).Value,
            Run(b => PairwiseLosses.MinorDpo(b, 0.3), boundary, reference, null, null, 2).Value,
            12
        );
        // ...and differs once a rejected ratio is negative (so the test above can fail).
        Assert.NotEqual(
            Run(b => PairwiseLosses.MinorDpo(b, 0.3), Policy, Reference, null, null, 2).Value,
            Run(b => PairwiseLosses.Dpo(b, 0.3), Policy, Reference, null, null, 2).Value,
            6
        );
    }

    [Fact]
    public void ExoRwWithTwoResponsesAndLogTargetRewardsEqualsExoPref()
    {
        using var scope = torch.NewDisposeScope();
        const double betaR = 0.25,
            epsilon = 0.05,
            betaPi = 0.7;
        var rewards = Enumerable
            .Range(0, 3)
            .SelectMany(_ => new[] { betaR * Math.Log(1 - epsilon), betaR * Math.Log(epsilon) })
            .ToArray();
        AssertSame(
            Run(b => ExoLosses.ExoRw(b, betaPi, betaR), Policy, Reference, null, rewards, 2),
            Run(b => ExoLosses.ExoPref(b, betaPi, epsilon), Policy, Reference, null, null, 2)
        );
    }
}
