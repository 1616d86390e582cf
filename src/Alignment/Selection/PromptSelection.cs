using AlignCluster.Alignment.Data;

namespace AlignCluster.Alignment.Selection;

/// <summary>Selection straight from a prompt-shard's <see cref="PromptCandidates"/>.</summary>
public static class PromptSelection
{
    /// <summary>
    /// Selects negatives for <paramref name="prompt"/> from per-candidate policy and cached reference log-probs
    /// (same order as <c>prompt.Candidates</c>); ratings for worst_rated come from the candidates.
    /// </summary>
    public static int[] Select(
        this PromptCandidates prompt,
        SelectionOptions options,
        ReadOnlySpan<double> policyLogps,
        ReadOnlySpan<double> referenceLogps,
        SelectionRng rng
    ) =>
        NegativeSelector.Select(
            options,
            policyLogps,
            referenceLogps,
            prompt.ChosenIndex,
            rng,
            prompt.Candidates.Select(c => c.Quality).ToList()
        );
}
