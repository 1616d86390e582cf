namespace AlignCluster.Alignment.Tests.Reference;

/// <summary>
/// The oracle itself is checked against values worked out by hand, so the tensor tests do not compare two copies
/// of the same misreading of a formula.
/// </summary>
public class ScalarReferenceTests
{
    private static readonly ScalarHyper H = new(Beta: 0.5, Epsilon: 0.25, Lambda: 2, Gamma: 0.5, BetaPi: 1, BetaR: 1);

    [Fact]
    public void DpoAtZeroMarginIsLog2()
    {
        var g = new ScalarGroup([-3, -4], [-3, -4]);
        Assert.Equal(Math.Log(2), ScalarLosses.Dpo(g, H), 14);
        Assert.Equal(Math.Log(2), ScalarLosses.Cd(g, H), 14);
        Assert.Equal(1, ScalarLosses.Hinge(g, H), 14);
        // sppo_hard: (0 − 1)² + (0 + 1)² with 1/(2β) = 1
        Assert.Equal(2, ScalarLosses.SppoHard(g, H), 14);
        // apo_zero: (1 − ½) + ½ ; apo_down: ½ + (1 − ½)
        Assert.Equal(1, ScalarLosses.ApoZero(g, H), 14);
        Assert.Equal(1, ScalarLosses.ApoDown(g, H), 14);
    }

    [Fact]
    public void HandValuesWithMargin()
    {
        // ρ_w = 2, ρ_l = −2 → d = 4, βd = 2. log σ(2) = −0.12692801104297263, log σ(−2) = −2.1269280110429727.
        var g = new ScalarGroup([0, -4], [-2, -2]);
        const double lsP = -0.12692801104297263,
            lsN = -2.1269280110429727;
        Assert.Equal(-lsP, ScalarLosses.Dpo(g, H), 14);
        Assert.Equal(0.75 * -lsP - 0.25 * lsN, ScalarLosses.Cdpo(g, H), 14);
        Assert.Equal((0.75 * -lsP + 0.25 * lsN) / 0.5, ScalarLosses.Robust(g, H), 14);
        Assert.Equal(0, ScalarLosses.Hinge(g, H), 14);
        // minor_dpo: β ρ_w − β max(0, ρ_l) = 1 → −log σ(1) = 0.31326168751822286
        Assert.Equal(0.31326168751822286, ScalarLosses.MinorDpo(g, H), 14);
        // bco_pair: −log σ(1) − log σ(1)
        Assert.Equal(2 * 0.31326168751822286, ScalarLosses.BcoPair(g, H), 14);
    }

    [Fact]
    public void MppoHandValues()
    {
        // log-probs −ln 2 over 1 token and −ln 4 over 1 token: p = 0.5 and 0.25.
        var g = new ScalarGroup([-Math.Log(2), -Math.Log(4)], Lengths: [1, 1], Scores: [1, 0]);
        Assert.Equal(-Math.Log(1 / (1 + Math.Exp(-0.25))), ScalarLosses.PairSingle(g, H), 14);
        Assert.Equal(Math.Log(2) + Math.Log(4.0 / 3), ScalarLosses.PointCe(g, H), 14); // −log 0.5 − log(1 − 0.25)
        Assert.Equal(0.25 + 0.0625, ScalarLosses.PointMse(g, H), 14);
        // list_mle: −[0.5 − log(e^0.5 + e^0.25)] − [0.25 − 0.25]
        Assert.Equal(-(0.5 - Math.Log(Math.Exp(0.5) + Math.Exp(0.25))), ScalarLosses.ListMle(g, H), 14);
    }

    [Fact]
    public void ExoHandValues()
    {
        // ρ = [ln 3, 0] with β_π = 1 → p_f = [3/4, 1/4]; target [1−ε, ε] = [3/4, 1/4] → KL = 0.
        var g = new ScalarGroup([Math.Log(3), 0], [0, 0], Scores: [Math.Log(3), 0]);
        Assert.Equal(0, ScalarLosses.ExoPref(g, H), 14);
        Assert.Equal(0, ScalarLosses.ExoRw(g, H), 14);
        // dpo_rw = cross-entropy H(p_r, p_f) = entropy of [3/4, 1/4] here.
        Assert.Equal(-(0.75 * Math.Log(0.75) + 0.25 * Math.Log(0.25)), ScalarLosses.DpoRw(g, H), 14);
    }
}
