using AlignCluster.Alignment.Losses;
using TorchSharp;
using static TorchSharp.torch;
using LossConfig = AlignCluster.Contracts.LossSpec;

namespace AlignCluster.Grains.Training;

/// <summary>
/// The trainer's view of one row of the loss registry (src/Alignment/Losses, docs/alignment.md): the row's tensor
/// function on a one-prompt float64 batch, with libtorch's autograd giving the gradient, and the row's shape deciding
/// which responses an example holds. The trainer keeps no loss formulas or loss names of its own.
/// </summary>
public sealed class AlignmentGroupLoss
{
    /// <summary>
    /// <c>loss.parameters.beta</c> is also the MC kernel's β of negative selection (and the metric β), so every loss
    /// accepts it; it reaches the loss only when the loss takes a β.
    /// </summary>
    public const string KernelBeta = "beta";

    private readonly LossParameters _parameters;

    /// <param name="spec">The registry's row.</param>
    /// <param name="overrides">Hyper-parameters the loss takes; validated here (unknown name or out of range →
    /// ArgumentException).</param>
    /// <param name="metricBeta">β of the reward metrics; null: the loss's own β, else its beta_pi, else 0.1.</param>
    public AlignmentGroupLoss(
        Alignment.Losses.LossSpec spec,
        IReadOnlyDictionary<string, double> overrides,
        double? metricBeta = null
    )
    {
        Spec = spec;
        _parameters = spec.Resolve(overrides);
        MetricBeta = metricBeta
            ?? (
                Parameters.TryGetValue("beta", out double beta) ? beta
                : Parameters.TryGetValue("beta_pi", out double betaPi) ? betaPi
                : 0.1
            );
    }

    /// <summary>
    /// The loss a run's config names: its registry row, looked up once, with everything a step or an evaluation needs
    /// from it (resolved parameters, shape, <see cref="MetricBeta"/>). Unknown names (the error lists the known ones),
    /// unknown hyper-parameters and out-of-range values raise ArgumentException.
    /// </summary>
    public static AlignmentGroupLoss Create(LossConfig config)
    {
        var spec = LossRegistry.Get(config.Name);
        return new AlignmentGroupLoss(
            spec,
            LossParameters(spec, config.Parameters),
            config.Parameters.TryGetValue(KernelBeta, out double beta) ? beta : null
        );
    }

    /// <summary>The config's parameters that go to the loss: all of them, except a <c>beta</c> the loss does not
    /// take.</summary>
    public static Dictionary<string, double> LossParameters(
        Alignment.Losses.LossSpec spec,
        IReadOnlyDictionary<string, double> parameters
    ) =>
        parameters
            .Where(p => p.Key != KernelBeta || spec.Defaults.ContainsKey(KernelBeta))
            .ToDictionary(p => p.Key, p => p.Value);

    /// <summary>The registry row: name, formula, shape, inputs, defaults.</summary>
    public Alignment.Losses.LossSpec Spec { get; }

    /// <summary>The registry's name (canonical spelling).</summary>
    public string Name => Spec.Name;

    /// <summary>The resolved hyper-parameters (defaults filled in).</summary>
    public IReadOnlyDictionary<string, double> Parameters => _parameters.Values;

    /// <summary>
    /// β used for the TRL reward metrics (rewards/* = β·ρ) and the held-out preference accuracy: the configured
    /// <c>beta</c>, else the loss's β (default included), else its beta_pi (EXO, dpo_rw), else 0.1.
    /// </summary>
    public double MetricBeta { get; }

    /// <summary>Value and ∂L/∂logp_θ(y_i) for one prompt; index 0 is the chosen.</summary>
    public LossValue Evaluate(LossInputs inputs)
    {
        int k = inputs.Count;
        if (Spec.Needs.HasFlag(Alignment.Losses.LossInputs.TokenCounts) && inputs.Lengths.Any(n => n <= 0))
            throw new ArgumentException(
                $"{Name}: every response needs at least one token (it divides by the "
                    + $"length), got lengths [{string.Join(", ", inputs.Lengths)}]"
            );
        using var scope = torch.NewDisposeScope(); // frees every tensor of this call, autograd graph included
        Tensor Row(double[] values) => torch.tensor(values, [1, k]); // (1, K): one prompt, K responses
        var policy = Row(inputs.PolicyLogProbs).requires_grad_();
        var batch = new LossBatch(
            policy,
            Row(inputs.ReferenceLogProbs),
            Row(inputs.Lengths.Select(n => (double)n).ToArray()),
            Row(inputs.Ratings)
        );
        var loss = Spec.PerPrompt(batch, _parameters).mean(); // (1) → ()
        loss.backward();
        return new LossValue(loss.item<double>(), policy.grad!.data<double>().ToArray());
    }
}
