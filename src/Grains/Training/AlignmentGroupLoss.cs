using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Grains.Training;

/// <summary>
/// The trainer's view of one loss of the alignment library (src/Alignment/Losses, docs/alignment.md): the library's
/// tensor function on a one-prompt float64 batch, with libtorch's autograd giving the gradient. The trainer keeps no
/// loss formulas of its own, so every registry name works with the library's hyper-parameters, defaults and checks.
/// </summary>
public sealed class AlignmentGroupLoss : IGroupLoss
{
    /// <summary>
    /// The losses that read a prompt's whole candidate set (the chosen first, then the rest) rather than the chosen
    /// and the selected negatives: MPPO's point-wise, multi-negative and list-wise losses and the reward-weighted
    /// EXO/DPO. pair_single and cd stay selection-based (a pair; the chosen + M selected negatives).
    /// </summary>
    public static readonly IReadOnlySet<string> WholeGroupLosses = new HashSet<string>
    {
        "point_ce", "point_mse", "pair_mns", "pair_mnm", "pair_mcs", "pair_mcm", "list_mle", "exo_rw", "dpo_rw",
    };

    /// <summary>The whole-group losses defined over every candidate (ratings as rewards or ranks), ties with the chosen included.</summary>
    public static readonly IReadOnlySet<string> AllCandidateLosses = new HashSet<string> { "point_ce", "point_mse", "list_mle", "exo_rw", "dpo_rw" };

    private readonly Alignment.Losses.LossSpec _spec;
    private readonly Alignment.Losses.LossParameters _parameters;

    /// <param name="spec">The library's loss.</param>
    /// <param name="overrides">Hyper-parameters the loss takes; validated here (unknown name or out of range → ArgumentException).</param>
    public AlignmentGroupLoss(Alignment.Losses.LossSpec spec, IReadOnlyDictionary<string, double> overrides)
    {
        _spec = spec;
        _parameters = spec.Resolve(overrides);
    }

    /// <summary>The registry's name (canonical spelling).</summary>
    public string Name => _spec.Name;

    public bool WholeGroup => WholeGroupLosses.Contains(_spec.Name);

    public bool IncludesTies => AllCandidateLosses.Contains(_spec.Name);

    /// <summary>The resolved hyper-parameters (defaults filled in).</summary>
    public IReadOnlyDictionary<string, double> Parameters => _parameters.Values;

    /// <summary>Value and ∂L/∂logp_θ(y_i) for one prompt; index 0 is the chosen.</summary>
    public LossValue Evaluate(LossInputs inputs)
    {
        int k = inputs.Count;
        if (_spec.Needs.HasFlag(Alignment.Losses.LossInputs.TokenCounts) && inputs.Lengths.Any(n => n <= 0))
            throw new ArgumentException($"{Name}: every response needs at least one token (it divides by the length), got lengths [{string.Join(", ", inputs.Lengths)}]");
        using var scope = torch.NewDisposeScope();   // frees every tensor of this call, autograd graph included
        Tensor Row(double[] values) => torch.tensor(values, [1, k]);   // (1, K): one prompt, K responses
        var policy = Row(inputs.PolicyLogProbs).requires_grad_();
        var batch = new Alignment.Losses.LossBatch(policy, Row(inputs.ReferenceLogProbs),
            Row(inputs.Lengths.Select(n => (double)n).ToArray()), Row(inputs.Ratings));
        var loss = _spec.PerPrompt(batch, _parameters).mean();   // (1) → ()
        loss.backward();
        return new LossValue(loss.item<double>(), policy.grad!.data<double>().ToArray());
    }
}
