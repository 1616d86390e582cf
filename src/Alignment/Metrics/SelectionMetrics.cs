using AlignCluster.Alignment.Selection;

namespace AlignCluster.Alignment.Metrics;

/// <summary>MC-PO's kernel diagnostics: how peaked the kernel is, and how often the selected negatives move.</summary>
public static class SelectionMetrics
{
    public const string KernelEntropy = "mc/kernel_entropy";
    public const string NegativeChangedFraction = "mc/negative_changed_fraction";

    /// <summary>Mean kernel entropy (nats) over prompts; each item is (policy log-probs, reference log-probs, chosen
    /// index).</summary>
    public static double MeanKernelEntropy(
        IEnumerable<(double[] Policy, double[] Reference, int Chosen)> prompts,
        double beta,
        bool includeChosen = false
    )
    {
        double sum = 0;
        int count = 0;
        foreach (var (policy, reference, chosen) in prompts)
        {
            sum += NegativeSelector.KernelEntropy(policy, reference, chosen, beta, includeChosen);
            count++;
        }
        return count == 0 ? 0 : sum / count;
    }

    /// <summary>
    /// Fraction of prompts whose selected negatives (as a set) differ from last round's. Only prompts selected in
    /// both rounds count; returns 0 when there are none (e.g. the first round).
    /// </summary>
    public static double FractionChanged(
        IReadOnlyDictionary<string, int[]> previous,
        IReadOnlyDictionary<string, int[]> current
    )
    {
        int compared = 0,
            changed = 0;
        foreach (var (id, negatives) in current)
        {
            if (!previous.TryGetValue(id, out var before))
                continue;
            compared++;
            if (!before.ToHashSet().SetEquals(negatives))
                changed++;
        }
        return compared == 0 ? 0 : (double)changed / compared;
    }
}
