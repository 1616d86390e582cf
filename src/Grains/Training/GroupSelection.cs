using AlignCluster.Alignment.Losses;
using AlignCluster.Alignment.Selection;
using AlignCluster.Contracts;

namespace AlignCluster.Grains.Training;

/// <summary>Which candidates were picked as negatives for a prompt, and the entropy of the kernel they came
/// from.</summary>
public sealed record Selection(int[] NegativeIndices, double KernelEntropy);

/// <summary>
/// The trainer's bridge from a prompt group to the MC kernel and the other selectors, whose one home is
/// <see cref="NegativeSelector"/> (src/Alignment/Selection). The cluster's rule on top: only candidates rated strictly
/// below the chosen are eligible negatives (a tie with the chosen is not a preference). Draws come from
/// <see cref="SelectionRng.For"/>(seed, round or step, prompt id), so they depend on neither shard nor order.
/// </summary>
public static class GroupSelection
{
    /// <summary>Indices of candidates eligible as negatives: rated strictly below the chosen.</summary>
    public static int[] Eligible(PromptGroup group) =>
        Enumerable
            .Range(0, group.Candidates.Length)
            .Where(i =>
                i != group.ChosenIndex && group.Candidates[i].Rating < group.Candidates[group.ChosenIndex].Rating
            )
            .ToArray();

    /// <summary>The negatives of <paramref name="group"/> under the policy's log-probs of its candidates.</summary>
    public static Selection Select(
        PromptGroup group,
        double[] policyLogProbs,
        SelectionSpec spec,
        ulong seed,
        long roundOrStep
    )
    {
        var eligible = Eligible(group);
        if (eligible.Length == 0)
            return new Selection([], 0);
        // The selector sees the chosen (index 0) and the eligible candidates only.
        int[] pool = [group.ChosenIndex, .. eligible];
        var policy = pool.Select(i => policyLogProbs[i]).ToArray();
        var reference = pool.Select(i =>
                group.Candidates[i].ReferenceLogProb
                ?? throw new InvalidOperationException(
                    $"prompt {group.PromptId}: candidate {group.Candidates[i].CandidateId} has no cached reference log-prob"
                )
            )
            .ToArray();
        var options = new SelectionOptions(
            SelectorNames.Parse(spec.Strategy),
            spec.Beta,
            spec.Negatives,
            spec.IncludeChosen
        );
        var ratings = pool.Select(i => (double?)group.Candidates[i].Rating).ToArray();
        var picked = NegativeSelector.Select(
            options,
            policy,
            reference,
            0,
            SelectionRng.For(seed, roundOrStep, group.PromptId),
            ratings
        );
        double entropy = NegativeSelector.KernelEntropy(policy, reference, 0, spec.Beta, spec.IncludeChosen);
        return new Selection(picked.Select(k => pool[k]).ToArray(), entropy);
    }

    /// <summary>
    /// Training examples for a selection, chosen first: one example with the chosen and all M negatives, or one pair
    /// per negative when the strategy is <c>all</c> (the augmented-DPO setting).
    /// </summary>
    public static IEnumerable<PromptGroup> Examples(PromptGroup group, Selection selection, SelectorKind strategy)
    {
        var chosen = group.Candidates[group.ChosenIndex];
        if (strategy == SelectorKind.All)
            return selection.NegativeIndices.Select(i =>
                group with
                {
                    Candidates = [chosen, group.Candidates[i]],
                    ChosenIndex = 0,
                }
            );
        Candidate[] candidates = [chosen, .. selection.NegativeIndices.Select(i => group.Candidates[i])];
        return [group with { Candidates = candidates, ChosenIndex = 0 }];
    }

    /// <summary>
    /// A whole-group loss's example, chosen first: every other candidate (<see cref="LossShape.GroupWithTies"/>) or
    /// every candidate rated below the chosen (<see cref="LossShape.Group"/>).
    /// </summary>
    public static PromptGroup WholeGroupExample(PromptGroup g, LossShape shape)
    {
        var chosen = g.Candidates[g.ChosenIndex];
        var rest =
            shape == LossShape.GroupWithTies
                ? g.Candidates.Where((_, i) => i != g.ChosenIndex)
                : Eligible(g).Select(i => g.Candidates[i]);
        return g with { Candidates = [chosen, .. rest], ChosenIndex = 0 };
    }
}
