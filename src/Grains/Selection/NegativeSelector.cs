using AlignCluster.Alignment.Selection;
using AlignCluster.Interfaces;

namespace AlignCluster.Grains.Selection;

/// <summary>Which candidates were picked as negatives for a prompt, and the entropy of the kernel they came from.</summary>
public sealed record Selection(int[] NegativeIndices, double KernelEntropy);

/// <summary>
/// Picks the rejected responses of a prompt group with the alignment library's selectors (mc / max / min / random /
/// worst_rated / all, AlignCluster.Alignment.Selection). The cluster's rule on top: only candidates rated strictly below
/// the chosen are eligible negatives (a tie with the chosen is not a preference). Draws come from
/// <see cref="SelectionRng.For"/>(seed, round or step, prompt id), so they do not depend on shard or order.
/// </summary>
public static class NegativeSelector
{
    public static readonly IReadOnlyList<string> Strategies = ["mc", "max", "min", "random", "worst_rated", "all"];

    /// <summary>Indices of candidates eligible as negatives: rated strictly below the chosen.</summary>
    public static int[] Eligible(PromptGroup group) => Enumerable.Range(0, group.Candidates.Length)
        .Where(i => i != group.ChosenIndex && group.Candidates[i].Rating < group.Candidates[group.ChosenIndex].Rating)
        .ToArray();

    public static Selection Select(PromptGroup group, double[] policyLogProbs, SelectionSpec spec, ulong seed, long roundOrStep)
    {
        var eligible = Eligible(group);
        if (eligible.Length == 0) return new Selection([], 0);
        // The selector sees the chosen (index 0) and the eligible candidates only.
        int[] pool = [group.ChosenIndex, .. eligible];
        var policy = pool.Select(i => policyLogProbs[i]).ToArray();
        var reference = pool.Select(i => group.Candidates[i].ReferenceLogProb ?? throw new InvalidOperationException(
            $"prompt {group.PromptId}: candidate {group.Candidates[i].CandidateId} has no cached reference log-prob")).ToArray();
        var options = new SelectionOptions(SelectorNames.Parse(spec.Strategy), spec.Beta, spec.Negatives, spec.IncludeChosen);
        var picked = Alignment.Selection.NegativeSelector.Select(options, policy, reference, 0,
            SelectionRng.For(seed, roundOrStep, group.PromptId), pool.Select(i => (double?)group.Candidates[i].Rating).ToArray());
        double entropy = Alignment.Selection.NegativeSelector.KernelEntropy(policy, reference, 0, spec.Beta, spec.IncludeChosen);
        return new Selection(picked.Select(k => pool[k]).ToArray(), entropy);
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
