using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Alignment.Losses;

/// <summary>Which optional tensors of a <see cref="LossBatch"/> a loss reads.</summary>
[Flags]
public enum LossInputs
{
    Policy = 0,
    Reference = 1,
    TokenCounts = 2,
    Scores = 4,
}

/// <summary>
/// Which of a prompt's responses a loss reads and how many (its K rule). Index 0 is always the chosen. The trainer
/// builds
/// every example from this row and nothing else: no list of loss names anywhere outside the registry.
/// </summary>
public enum LossShape
{
    /// <summary>The chosen and M ≥ 1 selected negatives, read as M pairs and averaged (K = 1 + M).</summary>
    Pairs,

    /// <summary>The chosen and exactly one selected negative (K = 2); strategy <c>all</c> gives one pair per
    /// negative.</summary>
    SinglePair,

    /// <summary>The chosen and M ≥ 1 selected negatives in one softmax (K = 1 + M): MC-PO's contrastive
    /// divergence.</summary>
    ChosenAndNegatives,

    /// <summary>The whole candidate set: the chosen and every candidate rated strictly below it (no
    /// selection).</summary>
    Group,

    /// <summary>The whole candidate set, ties with the chosen included (rewards or ranks over the set; no
    /// selection).</summary>
    GroupWithTies,
}

/// <summary>Hyper-parameter values for one loss, defaults already filled in.</summary>
public sealed class LossParameters(IReadOnlyDictionary<string, double> values)
{
    public IReadOnlyDictionary<string, double> Values { get; } = values;
    public double this[string name] => Values[name];
}

/// <summary>
/// A registered loss: its name, formula, shape (which responses it reads), the inputs it needs, its hyper-parameters
/// with defaults, and the pure function. <see cref="Compute"/> gives the batch loss (mean over prompts) that a trainer
/// back-propagates.
/// </summary>
/// <param name="UnitScores">Reads ratings as scores in [0, 1] (MPPO's point losses): ratings are min-max rescaled per
/// prompt before the loss sees them.</param>
public sealed record LossSpec(
    string Name,
    string Summary,
    LossShape Shape,
    LossInputs Needs,
    IReadOnlyDictionary<string, double> Defaults,
    Func<LossBatch, LossParameters, Tensor> PerPrompt,
    (double Min, double Max, bool MinInclusive)? EpsilonRange = null,
    bool UnitScores = false
)
{
    /// <summary>Reads a prompt's whole candidate set rather than the chosen and selected negatives.</summary>
    public bool WholeGroup => Shape is LossShape.Group or LossShape.GroupWithTies;

    /// <summary>The K rule in words, for docs and the <c>losses</c> command.</summary>
    public string KRule =>
        Shape switch
        {
            LossShape.Pairs => "K = 1 + M, mean over M pairs",
            LossShape.SinglePair => "K = 2",
            LossShape.ChosenAndNegatives => "K = 1 + M, one softmax",
            LossShape.Group => "K = 1 + candidates rated below the chosen",
            LossShape.GroupWithTies => "K = all candidates",
            _ => throw new ArgumentOutOfRangeException(nameof(Shape), Shape, null),
        };

    /// <summary>Defaults overridden by <paramref name="overrides"/>; unknown names and out-of-range values are
    /// errors.</summary>
    public LossParameters Resolve(IReadOnlyDictionary<string, double>? overrides = null)
    {
        var values = new Dictionary<string, double>(Defaults);
        foreach (var (name, value) in overrides ?? new Dictionary<string, double>())
        {
            if (!Defaults.ContainsKey(name))
                throw new ArgumentException(
                    Defaults.Count == 0
                        ? $"{Name}: takes no hyper-parameters, got '{name}'"
                        : $"{Name}: unknown hyper-parameter '{name}'; it takes {string.Join(", ", Defaults.Keys)}"
                );
            values[name] = value;
        }
        foreach (var (name, value) in values)
            Check(name, value);
        return new LossParameters(values);
    }

    /// <summary>Per-prompt losses (B) with the given hyper-parameters.</summary>
    public Tensor ComputePerPrompt(LossBatch batch, IReadOnlyDictionary<string, double>? overrides = null) =>
        PerPrompt(batch, Resolve(overrides));

    /// <summary>The batch loss: mean over prompts (0-dim tensor).</summary>
    public Tensor Compute(LossBatch batch, IReadOnlyDictionary<string, double>? overrides = null) =>
        LossTensors.Scoped(() => ComputePerPrompt(batch, overrides).mean());

    private void Check(string name, double value)
    {
        if (!double.IsFinite(value))
            throw new ArgumentException($"{Name}: {name} must be finite, got {value}");
        bool ok = name switch
        {
            "beta" or "beta_pi" or "beta_r" => value > 0,
            "lambda" => value >= 0,
            "epsilon" when EpsilonRange is { } r => (r.MinInclusive ? value >= r.Min : value > r.Min) && value < r.Max,
            _ => true,
        };
        if (!ok)
        {
            string range =
                name == "epsilon" && EpsilonRange is { } r ? $"{(r.MinInclusive ? "[" : "(")}{r.Min}, {r.Max})"
                : name == "lambda" ? "≥ 0"
                : "> 0";
            throw new ArgumentException($"{Name}: {name} must be in {range}, got {value}");
        }
    }
}

/// <summary>
/// Every loss by name, with its documented default hyper-parameters (see docs/alignment.md for the table).
/// Names are those of docs/alignment.md; <c>cd</c> is MC-PO's contrastive-divergence loss.
/// </summary>
public static class LossRegistry
{
    private const LossInputs Ref = LossInputs.Reference;
    private const LossInputs Len = LossInputs.TokenCounts;
    private const LossInputs Score = LossInputs.Scores;
    private const LossShape Pairs = LossShape.Pairs;
    private const LossShape SinglePair = LossShape.SinglePair;
    private const LossShape ChosenAndNegatives = LossShape.ChosenAndNegatives;
    private const LossShape Group = LossShape.Group;
    private const LossShape GroupWithTies = LossShape.GroupWithTies;

    private static Dictionary<string, double> P(params (string Name, double Value)[] items) =>
        items.ToDictionary(i => i.Name, i => i.Value);

    private static readonly LossSpec[] Specs =
    [
        new("dpo", "−log σ(β d)", Pairs, Ref, P(("beta", 0.1)), (b, p) => PairwiseLosses.Dpo(b, p["beta"])),
        new("ipo", "(d̄ − 1/(2β))², per-token averaged", Pairs, Ref | Len, P(("beta", 0.1)), (b, p) =>
            PairwiseLosses.Ipo(b, p["beta"])
        ),
        new("hinge", "max(0, 1 − β d)", Pairs, Ref, P(("beta", 0.1)), (b, p) => PairwiseLosses.Hinge(b, p["beta"])),
        new(
            "robust",
            "[−(1−ε) log σ(βd) + ε log σ(−βd)] / (1−2ε)",
            Pairs,
            Ref,
            P(("beta", 0.1), ("epsilon", 0.1)),
            (b, p) => PairwiseLosses.Robust(b, p["beta"], p["epsilon"]),
            (0, 0.5, true)
        ),
        new(
            "cdpo",
            "−(1−ε) log σ(βd) − ε log σ(−βd)",
            Pairs,
            Ref,
            P(("beta", 0.1), ("epsilon", 0.1)),
            (b, p) => PairwiseLosses.Cdpo(b, p["beta"], p["epsilon"]),
            (0, 1, true)
        ),
        new("minor_dpo", "−log σ(β ρ_w − β max(0, ρ_l))", Pairs, Ref, P(("beta", 0.1)), (b, p) =>
            PairwiseLosses.MinorDpo(b, p["beta"])
        ),
        new("dpop", "−log σ(β d − β λ max(0, −ρ_w))", Pairs, Ref, P(("beta", 0.1), ("lambda", 50)), (b, p) =>
            PairwiseLosses.Dpop(b, p["beta"], p["lambda"])
        ),
        new(
            "simpo",
            "−log σ(β logp_w/len_w − β logp_l/len_l − γ)",
            Pairs,
            Len,
            P(("beta", 2.0), ("gamma", 1.0)),
            (b, p) => ReferenceFreeLosses.Simpo(b, p["beta"], p["gamma"])
        ),
        new("cpo", "−log σ(β(logp_w − logp_l)) − logp_w", Pairs, LossInputs.Policy, P(("beta", 0.1)), (b, p) =>
            ReferenceFreeLosses.Cpo(b, p["beta"])
        ),
        new("orpo", "NLL_w/len_w − λ log σ(log odds_w − log odds_l)", Pairs, Len, P(("lambda", 0.1)), (b, p) =>
            ReferenceFreeLosses.Orpo(b, p["lambda"])
        ),
        new("nca_pair", "−log σ(βρ_w) − ½ log σ(−βρ_w) − ½ log σ(−βρ_l)", Pairs, Ref, P(("beta", 0.1)), (b, p) =>
            PairwiseLosses.NcaPair(b, p["beta"])
        ),
        new("bco_pair", "−log σ(βρ_w) − log σ(−βρ_l)", Pairs, Ref, P(("beta", 0.1)), (b, p) =>
            PairwiseLosses.BcoPair(b, p["beta"])
        ),
        new("sppo_hard", "(ρ_w − 1/(2β))² + (ρ_l + 1/(2β))²", Pairs, Ref, P(("beta", 0.1)), (b, p) =>
            PairwiseLosses.SppoHard(b, p["beta"])
        ),
        new("apo_zero", "(1 − σ(βρ_w)) + σ(βρ_l)", Pairs, Ref, P(("beta", 0.1)), (b, p) =>
            PairwiseLosses.ApoZero(b, p["beta"])
        ),
        new("apo_down", "σ(βρ_w) + (1 − σ(βd))", Pairs, Ref, P(("beta", 0.1)), (b, p) =>
            PairwiseLosses.ApoDown(b, p["beta"])
        ),
        new(
            "cd",
            "−log softmax(β ρ)[chosen] over chosen + M negatives (MC-PO)",
            ChosenAndNegatives,
            Ref,
            P(("beta", 0.1)),
            (b, p) => ContrastiveDivergenceLoss.Cd(b, p["beta"])
        ),
        new(
            "point_ce",
            "Σ −[s log p + (1−s) log(1−p)], p = exp(logp/len)",
            GroupWithTies,
            Len | Score,
            P(),
            (b, _) => MppoLosses.PointCe(b),
            UnitScores: true
        ),
        new(
            "point_mse",
            "Σ (s − p)²",
            GroupWithTies,
            Len | Score,
            P(),
            (b, _) => MppoLosses.PointMse(b),
            UnitScores: true
        ),
        new("pair_single", "−log σ(p_w − p_l)", SinglePair, Len, P(), (b, _) => MppoLosses.PairSingle(b)),
        new("pair_mns", "−Σ_i log σ(p_w − p_i)", Group, Len, P(), (b, _) => MppoLosses.PairMns(b)),
        new("pair_mnm", "−log σ(N p_w − Σ_i p_i)", Group, Len, P(), (b, _) => MppoLosses.PairMnm(b)),
        new("pair_mcs", "−Σ_{s_a>s_b} log σ(p_a − p_b)", Group, Len | Score, P(), (b, _) => MppoLosses.PairMcs(b)),
        new("pair_mcm", "−log σ(Σ_{s_a>s_b} (p_a − p_b))", Group, Len | Score, P(), (b, _) => MppoLosses.PairMcm(b)),
        new(
            "list_mle",
            "−Σ_i [p_(i) − log Σ_{j≥i} exp p_(j)], by descending score",
            GroupWithTies,
            Len | Score,
            P(),
            (b, _) => MppoLosses.ListMle(b)
        ),
        new(
            "exo_pref",
            "KL(softmax(β_π ρ) ‖ [1−ε, ε]), K = 2",
            SinglePair,
            Ref,
            P(("beta_pi", 0.5), ("epsilon", 1e-3)),
            (b, p) => ExoLosses.ExoPref(b, p["beta_pi"], p["epsilon"]),
            (0, 1, false)
        ),
        new(
            "exo_rw",
            "KL(softmax(β_π ρ) ‖ softmax(R/β_r))",
            GroupWithTies,
            Ref | Score,
            P(("beta_pi", 0.5), ("beta_r", 0.1)),
            (b, p) => ExoLosses.ExoRw(b, p["beta_pi"], p["beta_r"])
        ),
        new(
            "dpo_rw",
            "−Σ softmax(R/β_r) · log softmax(β_π ρ)",
            GroupWithTies,
            Ref | Score,
            P(("beta_pi", 0.5), ("beta_r", 0.1)),
            (b, p) => ExoLosses.DpoRw(b, p["beta_pi"], p["beta_r"])
        ),
    ];

    private static readonly Dictionary<string, LossSpec> ByName = Specs.ToDictionary(
        s => s.Name,
        StringComparer.OrdinalIgnoreCase
    );

    /// <summary>All registered losses, in the order of docs/alignment.md.</summary>
    public static IReadOnlyList<LossSpec> All => Specs;

    /// <summary>Every registered name.</summary>
    public static IEnumerable<string> Names => Specs.Select(s => s.Name);

    /// <summary>The loss called <paramref name="name"/> (case-insensitive); a clear error listing the names
    /// otherwise.</summary>
    public static LossSpec Get(string name) =>
        ByName.TryGetValue(name, out var spec)
            ? spec
            : throw new ArgumentException($"unknown loss '{name}'; known: {string.Join(", ", Names)}");
}
