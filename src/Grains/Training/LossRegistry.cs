using AlignCluster.Interfaces;

namespace AlignCluster.Grains.Training;

/// <summary>
/// The losses a trainer can run: every loss of the alignment library's registry (docs/alignment.md's names, defaults and
/// range checks in docs/alignment.md), reached through <see cref="AlignmentGroupLoss"/>. The cluster's config names
/// are the registry's names, so no name is mapped.
/// </summary>
public static class LossRegistry
{
    /// <summary>
    /// <c>loss.parameters.beta</c> is also the MC kernel's β of negative selection (and the metric β), so every loss
    /// accepts it; it reaches the loss only when the loss takes a β.
    /// </summary>
    public const string KernelBeta = "beta";

    /// <summary>Every loss name the trainer accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Alignment.Losses.LossRegistry.Names];

    /// <summary>The loss for a spec. Unknown names (error lists the known ones), unknown hyper-parameters and out-of-range values raise ArgumentException.</summary>
    public static AlignmentGroupLoss Create(LossSpec spec)
    {
        var library = Alignment.Losses.LossRegistry.Get(spec.Name);
        return new AlignmentGroupLoss(library, LossParameters(library, spec.Parameters));
    }

    /// <summary>The config's parameters that go to the loss: all of them, except a <c>beta</c> the loss does not take.</summary>
    public static Dictionary<string, double> LossParameters(Alignment.Losses.LossSpec library, IReadOnlyDictionary<string, double> parameters) =>
        parameters.Where(p => p.Key != KernelBeta || library.Defaults.ContainsKey(KernelBeta)).ToDictionary(p => p.Key, p => p.Value);

    /// <summary>
    /// β used for the TRL reward metrics (rewards/* = β·ρ): the configured <c>beta</c>, else the loss's β (default
    /// included), else its beta_pi (EXO, dpo_rw), else 0.1.
    /// </summary>
    public static double MetricBeta(LossSpec spec)
    {
        if (spec.Parameters.TryGetValue(KernelBeta, out double beta)) return beta;
        var resolved = Create(spec).Parameters;
        return resolved.TryGetValue("beta", out beta) ? beta : resolved.TryGetValue("beta_pi", out double betaPi) ? betaPi : 0.1;
    }
}
