using AlignCluster.Contracts;
using AlignCluster.Grains.Configuration;
using AlignCluster.Grains.Training;

namespace AlignCluster.Integration.Tests.Cluster;

/// <summary>
/// The trainer's losses (<see cref="AlignmentGroupLoss"/> over the alignment library): values against closed forms
/// computed by hand here, gradients against hand-derived formulas and against central finite differences of the
/// adapter's own value; the config checks that name the loss fields.
/// </summary>
public class LossGradientTests
{
    // ρ = logp_θ − logp_ref = [0.4, −0.4, 0.4, −0.4]: no loss of the registry sits on a kink here (hinge's 1 − βd,
    // minor_dpo's max(0, ρ_l), dpop's max(0, −ρ_w) are all away from 0), so central differences are exact to ~1e-10.
    private static readonly LossInputs Group = new(
        PolicyLogProbs: [-3.1, -4.0, -2.5, -5.2],
        ReferenceLogProbs: [-3.5, -3.6, -2.9, -4.8],
        Lengths: [4, 5, 3, 6],
        Ratings: [1.0, 0.5, 0.75, 0.25]
    );

    /// <summary>Non-default values for every hyper-parameter name the registry uses; each loss gets the ones it
    /// takes.</summary>
    private static readonly Dictionary<string, double> Overrides = new()
    {
        ["beta"] = 0.7,
        ["beta_pi"] = 0.5,
        ["beta_r"] = 0.3,
        ["epsilon"] = 0.2,
        ["lambda"] = 2.0,
        ["gamma"] = 0.3,
    };

    /// <summary>The config's parameters for <paramref name="name"/>: beta always (it is also the MC kernel's β), the
    /// rest only where the loss takes them.</summary>
    private static LossSpec Spec(string name)
    {
        var takes = Alignment.Losses.LossRegistry.Get(name).Defaults.Keys;
        return new LossSpec(
            name,
            Overrides.Where(p => p.Key == "beta" || takes.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value)
        );
    }

    /// <summary>Every registry name: pairwise (dpo … apo_down), reference-free (simpo, cpo, orpo), cd, MPPO,
    /// EXO.</summary>
    public static IEnumerable<object[]> AllLosses() =>
        Alignment.Losses.LossRegistry.Names.Select(n => new object[] { n });

    private static readonly HashSet<string> PairOnly = ["exo_pref", "pair_single"];

    [Theory]
    [MemberData(nameof(AllLosses))]
    public void GradientMatchesFiniteDifferences(string name)
    {
        var loss = AlignmentGroupLoss.Create(Spec(name));
        var inputs = PairOnly.Contains(name) ? Pair(Group) : Group; // the rest with M = 3 negatives / the whole group
        var value = loss.Evaluate(inputs);
        Assert.True(double.IsFinite(value.Loss), $"{name}: value {value.Loss}");
        Assert.Equal(inputs.Count, value.GradientWrtPolicyLogProbs.Length);
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
            double analytic = value.GradientWrtPolicyLogProbs[i];
            Assert.True(
                Math.Abs(numeric - analytic) < 1e-7,
                $"{name} ∂/∂logp[{i}]: autograd {analytic}, numeric {numeric}"
            );
        }
        // Every loss depends on the chosen's log-prob (point_* through its likelihood), so a zero gradient there is a
        // bug.
        Assert.NotEqual(0, value.GradientWrtPolicyLogProbs[0]);
    }

    [Fact]
    public void DpoIsMinusLogSigmoidOfBetaTimesMargin()
    {
        // By hand: ρ_w = −3.1 − (−3.5) = 0.4, ρ_l = −4.0 − (−3.6) = −0.4, d = 0.8, β = 0.1 → −log σ(0.08) = log(1 +
        // e^−0.08).
        var value = AlignmentGroupLoss
            .Create(new LossSpec("dpo", new Dictionary<string, double> { ["beta"] = 0.1 }))
            .Evaluate(Pair(Group));
        Assert.Equal(Math.Log(1 + Math.Exp(-0.08)), value.Loss, 12);
        // ∂/∂logp_w = −β σ(−βd), ∂/∂logp_l = +β σ(−βd).
        double s = 1 / (1 + Math.Exp(0.08));
        Assert.Equal(-0.1 * s, value.GradientWrtPolicyLogProbs[0], 12);
        Assert.Equal(0.1 * s, value.GradientWrtPolicyLogProbs[1], 12);
    }

    [Fact]
    public void CdWithOneNegativeEqualsDpoAndMinorDpoEqualsDpoWhenRejectedIsBelowReference()
    {
        var p = new Dictionary<string, double> { ["beta"] = 0.3 };
        var pair = Pair(Group); // ρ_l = −0.4 < 0: MinorDPO's max(0, ρ_l) = 0, so it is −log σ(β ρ_w), not DPO.
        var dpo = AlignmentGroupLoss.Create(new LossSpec("dpo", p)).Evaluate(pair);
        Assert.Equal(dpo.Loss, AlignmentGroupLoss.Create(new LossSpec("cd", p)).Evaluate(pair).Loss, 12);
        Assert.Equal(
            Math.Log(1 + Math.Exp(-0.3 * 0.4)),
            AlignmentGroupLoss.Create(new LossSpec("minor_dpo", p)).Evaluate(pair).Loss,
            12
        );
        // With ρ_l > 0 (rejected above the reference) MinorDPO equals DPO: −log σ(β(ρ_w − ρ_l)).
        var above = pair with { PolicyLogProbs = [-3.1, -3.2] }; // ρ_l = 0.4
        Assert.Equal(
            AlignmentGroupLoss.Create(new LossSpec("dpo", p)).Evaluate(above).Loss,
            AlignmentGroupLoss.Create(new LossSpec("minor_dpo", p)).Evaluate(above).Loss,
            12
        );
    }

    [Fact]
    public void CdWithThreeNegativesIsSoftmaxCrossEntropyWithItsHandGradient()
    {
        // By hand (MC-PO eq. 11): r = βρ, L = log Σ_i e^{r_i} − r_0, ∂L/∂logp_i = β(softmax(r)_i − 1[i = 0]).
        const double beta = 0.7;
        var r = Enumerable.Range(0, 4).Select(i => beta * Group.Rho(i)).ToArray();
        double z = r.Sum(Math.Exp);
        var value = AlignmentGroupLoss
            .Create(new LossSpec("cd", new Dictionary<string, double> { ["beta"] = beta }))
            .Evaluate(Group);
        Assert.Equal(Math.Log(z) - r[0], value.Loss, 12);
        for (int i = 0; i < 4; i++)
            Assert.Equal(beta * (Math.Exp(r[i]) / z - (i == 0 ? 1 : 0)), value.GradientWrtPolicyLogProbs[i], 12);
    }

    [Fact]
    public void PairMnmIsBestAgainstAllMergedWithItsHandGradient()
    {
        // By hand (MPPO): p_i = exp(logp_i/len_i), z = N p_0 − Σ_{i≥1} p_i, L = softplus(−z);
        // ∂L/∂logp_0 = −σ(−z) N p_0/len_0, ∂L/∂logp_i = σ(−z) p_i/len_i. The config's beta (kernel β) is ignored.
        var p = Enumerable.Range(0, 4).Select(i => Math.Exp(Group.PolicyLogProbs[i] / Group.Lengths[i])).ToArray();
        double z = 3 * p[0] - p[1] - p[2] - p[3];
        double s = 1 / (1 + Math.Exp(z));
        var value = AlignmentGroupLoss
            .Create(new LossSpec("pair_mnm", new Dictionary<string, double> { ["beta"] = 0.1 }))
            .Evaluate(Group);
        Assert.Equal(Math.Log(1 + Math.Exp(-z)), value.Loss, 12);
        Assert.Equal(-s * 3 * p[0] / 4, value.GradientWrtPolicyLogProbs[0], 12);
        for (int i = 1; i < 4; i++)
            Assert.Equal(s * p[i] / Group.Lengths[i], value.GradientWrtPolicyLogProbs[i], 12);
    }

    [Fact]
    public void ExoRwIsKlBetweenSoftmaxes()
    {
        // Independent: KL(p_f ‖ p_r) with p_f = softmax(β_π ρ), p_r = softmax(R/β_r), summed term by term.
        double betaPi = 0.5,
            betaR = 0.3;
        var f = Enumerable.Range(0, 4).Select(i => betaPi * Group.Rho(i)).ToArray();
        var r = Group.Ratings.Select(x => x / betaR).ToArray();
        double[] Softmax(double[] x)
        {
            var e = x.Select(Math.Exp).ToArray();
            return e.Select(v => v / e.Sum()).ToArray();
        }
        var pf = Softmax(f);
        var pr = Softmax(r);
        double kl = pf.Select((p, i) => p * Math.Log(p / pr[i])).Sum();
        var value = AlignmentGroupLoss
            .Create(new LossSpec("exo_rw", new Dictionary<string, double> { ["beta_pi"] = betaPi, ["beta_r"] = betaR }))
            .Evaluate(Group);
        Assert.Equal(kl, value.Loss, 12);
    }

    [Fact]
    public void EveryRegistryNameIsAcceptedAndTheListwiseOnesTakeTheWholeGroup()
    {
        string[] clusterNames = ["dpo", "cd", "minor_dpo", "pair_mnm", "exo_pref", "exo_rw"]; // the names configs used before
        Assert.Subset(Alignment.Losses.LossRegistry.Names.ToHashSet(), clusterNames.ToHashSet());
        Assert.Equal(27, Alignment.Losses.LossRegistry.Names.Count()); // docs/alignment.md's loss table
        string[] whole =
        [
            "point_ce",
            "point_mse",
            "pair_mns",
            "pair_mnm",
            "pair_mcs",
            "pair_mcm",
            "list_mle",
            "exo_rw",
            "dpo_rw",
        ];
        foreach (var name in Alignment.Losses.LossRegistry.Names)
            Assert.True(
                whole.Contains(name) == AlignmentGroupLoss.Create(Spec(name)).Spec.WholeGroup,
                $"{name}: WholeGroup"
            );
        Assert.Equal("dpo", AlignmentGroupLoss.Create(new LossSpec("DPO", new Dictionary<string, double>())).Name);
    }

    /// <summary>
    /// Each registry row's shape against a table written from the losses' definitions (docs/alignment.md): which
    /// responses each loss reads. A wrong row would make the trainer build the wrong examples.
    /// </summary>
    [Fact]
    public void EveryRegistryRowStatesTheShapeItsDefinitionHas()
    {
        var expected = new Dictionary<string, Alignment.Losses.LossShape>();
        foreach (
            var name in new[]
            {
                "dpo",
                "ipo",
                "hinge",
                "robust",
                "cdpo",
                "minor_dpo",
                "dpop",
                "simpo",
                "cpo",
                "orpo",
                "nca_pair",
                "bco_pair",
                "sppo_hard",
                "apo_zero",
                "apo_down",
            }
        )
            expected[name] = Alignment.Losses.LossShape.Pairs; // mean over the chosen-vs-negative pairs
        expected["cd"] = Alignment.Losses.LossShape.ChosenAndNegatives; // one softmax over chosen + M negatives
        expected["exo_pref"] = expected["pair_single"] = Alignment.Losses.LossShape.SinglePair; // defined on K = 2
        foreach (var name in new[] { "pair_mns", "pair_mnm", "pair_mcs", "pair_mcm" })
            expected[name] = Alignment.Losses.LossShape.Group; // the chosen against everything rated below it
        foreach (var name in new[] { "point_ce", "point_mse", "list_mle", "exo_rw", "dpo_rw" })
            expected[name] = Alignment.Losses.LossShape.GroupWithTies; // rewards or ranks over the whole set
        Assert.Equal(expected.Keys.Order(), Alignment.Losses.LossRegistry.Names.Order());
        foreach (var spec in Alignment.Losses.LossRegistry.All)
        {
            Assert.True(
                expected[spec.Name] == spec.Shape,
                $"{spec.Name}: {spec.Shape}, expected {expected[spec.Name]}"
            );
            Assert.Equal(spec.Name is "point_ce" or "point_mse", spec.UnitScores); // MPPO's s ∈ [0, 1]
        }
    }

    [Fact]
    public void MetricBetaIsTheConfiguredBetaElseTheLossDefault()
    {
        // Defaults from the registry rows (src/Alignment/Losses): exo_rw's beta_pi 0.5, simpo's β 2.0; pair_mnm has
        // neither, so the metric falls back to 0.1.
        static double MetricBeta(string name, Dictionary<string, double> parameters) =>
            AlignmentGroupLoss.Create(new LossSpec(name, parameters)).MetricBeta;
        Assert.Equal(0.25, MetricBeta("exo_rw", new() { ["beta"] = 0.25 }));
        Assert.Equal(0.5, MetricBeta("exo_rw", [])); // beta_pi default
        Assert.Equal(2.0, MetricBeta("simpo", [])); // simpo's β default
        Assert.Equal(0.1, MetricBeta("pair_mnm", []));
    }

    [Fact]
    public void ConfigErrorsNameTheLossField()
    {
        List<string> Errors(string loss, Dictionary<string, double> parameters, int negatives = 1) =>
            RunConfigLoader.Validate(
                TestConfigs.Tiny("v", loss) with
                {
                    Loss = new LossConfig { Name = loss, Parameters = parameters },
                    Selection = new SelectionConfig
                    {
                        Strategy = "mc",
                        Per = "step",
                        Negatives = negatives,
                    },
                }
            );

        Assert.Contains(Errors("dop", []), e =>
            e.StartsWith("loss.name: unknown loss 'dop'; known: dpo, ipo, hinge") && e.Contains("dpo_rw")
        );
        Assert.Contains(Errors("robust", new() { ["epsilon"] = 0.6 }), e =>
            e.StartsWith("loss.parameters.epsilon:") && e.Contains("[0, 0.5)")
        );
        Assert.Contains(Errors("dpo", new() { ["gamma"] = 1 }), e =>
            e.StartsWith("loss.parameters.gamma:") && e.Contains("unknown hyper-parameter")
        );
        Assert.Contains(Errors("dpop", new() { ["lambda"] = -1 }), e => e.StartsWith("loss.parameters.lambda:"));
        Assert.Contains(Errors("pair_mnm", new() { ["beta"] = 0 }), e => e.StartsWith("loss.parameters.beta:"));
        Assert.Contains(Errors("exo_pref", [], negatives: 2), e => e.StartsWith("selection.negatives: exo_pref"));
        // beta is the MC kernel's β too, so losses without a β accept it; defaults pass.
        Assert.Empty(Errors("exo_rw", new() { ["beta"] = 0.1, ["beta_r"] = 0.2 }));
        Assert.Empty(Errors("list_mle", new() { ["beta"] = 0.1 }));
        Assert.Empty(Errors("cd", new() { ["beta"] = 0.1 }, negatives: 3));
    }

    private static LossInputs Pair(LossInputs g) =>
        new(g.PolicyLogProbs[..2], g.ReferenceLogProbs[..2], g.Lengths[..2], g.Ratings[..2]);
}
