using AlignCluster.Interfaces;

namespace AlignCluster.Grains.Training;

/// <summary>
/// The losses a trainer can run, by name, with their documented defaults:
/// dpo / cd (β = 0.1), minor_dpo (β = 0.1), pair_mnm (no parameters), exo_pref (beta_pi = 0.5, epsilon = 1e-3),
/// exo_rw (beta_pi = 0.5, beta_r = 0.1).
/// </summary>
public static class LossRegistry
{
    public static readonly IReadOnlyList<string> Names = ["dpo", "cd", "minor_dpo", "pair_mnm", "exo_pref", "exo_rw"];

    /// <summary>The loss for a spec; unknown names raise an error listing the known ones.</summary>
    public static IGroupLoss Create(LossSpec spec) => spec.Name switch
    {
        "dpo" or "cd" => new ContrastiveDivergenceLoss(spec.Name, spec.Get("beta", 0.1)),
        "minor_dpo" => new MinorDpoLoss(spec.Get("beta", 0.1)),
        "pair_mnm" => new PairMnmLoss(),
        "exo_pref" or "exo_rw" => new ExoLoss(spec.Name, spec.Get("beta_pi", 0.5), spec.Get("beta_r", 0.1), spec.Get("epsilon", 1e-3)),
        _ => throw new ArgumentException($"unknown loss '{spec.Name}'; known: {string.Join(", ", Names)}"),
    };

    /// <summary>β used for the TRL reward metrics (rewards/* = β·ρ): the loss's β, or beta_pi for EXO, else 0.1.</summary>
    public static double MetricBeta(LossSpec spec) => spec.Get("beta", spec.Get("beta_pi", 0.1));
}
