using AlignCluster.Grains.Training;
using AlignCluster.Interfaces;

namespace AlignCluster.Integration.Tests.Cluster;

/// <summary>The trainer's scalar losses: values against closed forms computed by hand here, gradients against central finite differences.</summary>
public class LossGradientTests
{
    private static readonly LossInputs Group = new(
        PolicyLogProbs: [-3.1, -4.0, -2.5, -5.2],
        ReferenceLogProbs: [-3.5, -3.6, -2.9, -4.8],
        Lengths: [4, 5, 3, 6],
        Ratings: [1.0, 0.5, 0.75, 0.25]);

    public static IEnumerable<object[]> Losses() =>
    [
        ["dpo"], ["cd"], ["minor_dpo"], ["pair_mnm"], ["exo_pref"], ["exo_rw"],
    ];

    [Theory]
    [MemberData(nameof(Losses))]
    public void GradientMatchesFiniteDifferences(string name)
    {
        var loss = LossRegistry.Create(new LossSpec(name, new Dictionary<string, double> { ["beta"] = 0.7, ["beta_pi"] = 0.5, ["beta_r"] = 0.3 }));
        var inputs = name is "dpo" or "minor_dpo" or "exo_pref" ? Pair(Group) : Group;
        var analytic = loss.Evaluate(inputs).GradientWrtPolicyLogProbs;
        const double h = 1e-5;
        for (int i = 0; i < inputs.Count; i++)
        {
            double Shifted(double d)
            {
                var logps = (double[])inputs.PolicyLogProbs.Clone();
                logps[i] += d;
                return loss.Evaluate(inputs with { PolicyLogProbs = logps }).Loss;
            }
            double numeric = (Shifted(h) - Shifted(-h)) / (2 * h);
            Assert.True(Math.Abs(numeric - analytic[i]) < 1e-7, $"{name} ∂/∂logp[{i}]: analytic {analytic[i]}, numeric {numeric}");
        }
    }

    [Fact]
    public void DpoIsMinusLogSigmoidOfBetaTimesMargin()
    {
        // By hand: ρ_w = −3.1 − (−3.5) = 0.4, ρ_l = −4.0 − (−3.6) = −0.4, d = 0.8, β = 0.1 → −log σ(0.08) = log(1 + e^−0.08).
        var value = LossRegistry.Create(new LossSpec("dpo", new Dictionary<string, double> { ["beta"] = 0.1 })).Evaluate(Pair(Group));
        Assert.Equal(Math.Log(1 + Math.Exp(-0.08)), value.Loss, 12);
    }

    [Fact]
    public void CdWithOneNegativeEqualsDpoAndMinorDpoEqualsDpoWhenRejectedIsBelowReference()
    {
        var p = new Dictionary<string, double> { ["beta"] = 0.3 };
        var pair = Pair(Group); // ρ_l = −0.4 < 0: MinorDPO's max(0, ρ_l) = 0, so it is −log σ(β ρ_w), not DPO.
        var dpo = LossRegistry.Create(new LossSpec("dpo", p)).Evaluate(pair);
        Assert.Equal(dpo.Loss, LossRegistry.Create(new LossSpec("cd", p)).Evaluate(pair).Loss, 12);
        Assert.Equal(Math.Log(1 + Math.Exp(-0.3 * 0.4)), LossRegistry.Create(new LossSpec("minor_dpo", p)).Evaluate(pair).Loss, 12);
        // With ρ_l > 0 (rejected above the reference) MinorDPO equals DPO: −log σ(β(ρ_w − ρ_l)).
        var above = pair with { PolicyLogProbs = [-3.1, -3.2] }; // ρ_l = 0.4
        Assert.Equal(LossRegistry.Create(new LossSpec("dpo", p)).Evaluate(above).Loss,
            LossRegistry.Create(new LossSpec("minor_dpo", p)).Evaluate(above).Loss, 12);
    }

    [Fact]
    public void ExoRwIsKlBetweenSoftmaxes()
    {
        // Independent: KL(p_f ‖ p_r) with p_f = softmax(β_π ρ), p_r = softmax(R/β_r), summed term by term.
        double betaPi = 0.5, betaR = 0.3;
        var f = Enumerable.Range(0, 4).Select(i => betaPi * Group.Rho(i)).ToArray();
        var r = Group.Ratings.Select(x => x / betaR).ToArray();
        double[] Softmax(double[] x) { var e = x.Select(Math.Exp).ToArray(); return e.Select(v => v / e.Sum()).ToArray(); }
        var pf = Softmax(f);
        var pr = Softmax(r);
        double kl = pf.Select((p, i) => p * Math.Log(p / pr[i])).Sum();
        var value = LossRegistry.Create(new LossSpec("exo_rw", new Dictionary<string, double> { ["beta_pi"] = betaPi, ["beta_r"] = betaR })).Evaluate(Group);
        Assert.Equal(kl, value.Loss, 12);
    }

    private static LossInputs Pair(LossInputs g) => new(g.PolicyLogProbs[..2], g.ReferenceLogProbs[..2], g.Lengths[..2], g.Ratings[..2]);
}
