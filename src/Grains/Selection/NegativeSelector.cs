using AlignCluster.Grains.Policy;
using AlignCluster.Interfaces;

namespace AlignCluster.Grains.Selection;

/// <summary>Which candidates were picked as negatives for a prompt, and the entropy of the kernel they came from.</summary>
public sealed record Selection(int[] NegativeIndices, double KernelEntropy);

/// <summary>
/// Picks the rejected responses of a prompt (ALGORITHMS.md, "MC-PO: the CD loss and the MC kernel").
/// Eligible negatives are the candidates rated strictly below the chosen. Kernel weights use the current policy:
/// w_i = exp(β ρ_i) / Σ_j exp(β ρ_j), ρ_i = logp_θ(y_i) − logp_ref(y_i).
/// mc: M draws without replacement from Categorical(w) (Gumbel-top-k on log w; with IncludeChosen the chosen is in the
/// categorical as in Algorithm 1); max / min: the M largest / smallest w; random: M uniform without replacement;
/// worst_rated: the M lowest ratings; all: every eligible candidate.
/// Ties break towards the lower candidate index, so max, min and worst_rated are deterministic.
/// </summary>
public static class NegativeSelector
{
    public static readonly IReadOnlyList<string> Strategies = ["mc", "max", "min", "random", "worst_rated", "all"];

    /// <summary>Indices of candidates eligible as negatives: rated strictly below the chosen.</summary>
    public static int[] Eligible(PromptGroup group) => Enumerable.Range(0, group.Candidates.Length)
        .Where(i => i != group.ChosenIndex && group.Candidates[i].Rating < group.Candidates[group.ChosenIndex].Rating)
        .ToArray();

    public static Selection Select(PromptGroup group, double[] policyLogProbs, SelectionSpec spec, SeededRandom random)
    {
        var eligible = Eligible(group).ToList();
        if (spec.Strategy == "mc" && spec.IncludeChosen) eligible.Insert(0, group.ChosenIndex);
        if (eligible.Count == 0) return new Selection([], 0);

        // log w_i up to a constant, and the kernel's entropy H(w).
        var logW = eligible.Select(i => spec.Beta * (policyLogProbs[i] - (group.Candidates[i].ReferenceLogProb
            ?? throw new InvalidOperationException($"prompt {group.PromptId}: candidate {group.Candidates[i].CandidateId} has no cached reference log-prob")))).ToArray();
        double max = logW.Max(), logZ = max + Math.Log(logW.Sum(v => Math.Exp(v - max)));
        double entropy = -logW.Sum(v => Math.Exp(v - logZ) * (v - logZ));

        int m = spec.Strategy == "all" ? eligible.Count : Math.Min(spec.Negatives, eligible.Count);
        IEnumerable<int> order = spec.Strategy switch
        {
            "mc" => Enumerable.Range(0, eligible.Count).Select(k => (k, key: logW[k] + random.NextGumbel()))
                .OrderByDescending(p => p.key).Select(p => p.k),
            "max" => Enumerable.Range(0, eligible.Count).OrderByDescending(k => logW[k]).ThenBy(k => k),
            "min" => Enumerable.Range(0, eligible.Count).OrderBy(k => logW[k]).ThenBy(k => k),
            "random" => Enumerable.Range(0, eligible.Count).Select(k => (k, key: random.NextDouble()))
                .OrderBy(p => p.key).Select(p => p.k),
            "worst_rated" => Enumerable.Range(0, eligible.Count).OrderBy(k => group.Candidates[eligible[k]].Rating).ThenBy(k => k),
            "all" => Enumerable.Range(0, eligible.Count),
            _ => throw new ArgumentException($"unknown selection strategy '{spec.Strategy}'; known: {string.Join(", ", Strategies)}"),
        };
        return new Selection(order.Take(m).Select(k => eligible[k]).ToArray(), entropy);
    }

    /// <summary>
    /// Training examples for a selection, chosen first: one example with all M negatives, or — for "all" with a
    /// pairwise loss — one pair per negative (the augmented-DPO setting of MC-PO §6.4).
    /// </summary>
    public static IEnumerable<PromptGroup> Examples(PromptGroup group, Selection selection, bool pairsForAll)
    {
        var chosen = group.Candidates[group.ChosenIndex];
        if (pairsForAll)
            return selection.NegativeIndices.Select(i => group with { Candidates = [chosen, group.Candidates[i]], ChosenIndex = 0 });
        return [group with { Candidates = [chosen, .. selection.NegativeIndices.Select(i => group.Candidates[i])], ChosenIndex = 0 }];
    }
}
