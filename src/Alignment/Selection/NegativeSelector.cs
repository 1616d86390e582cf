namespace AlignCluster.Alignment.Selection;

/// <summary>How to pick negatives for one prompt.</summary>
/// <param name="Kind">The strategy.</param>
/// <param name="Beta">β of the kernel weights <c>w ∝ exp(β·ρ)</c>.</param>
/// <param name="Count">M, the number of negatives (without replacement; capped at the pool size). Ignored by
/// <c>all</c>.</param>
/// <param name="IncludeChosen">mc only: put the chosen in the categorical as MC-PO's Algorithm 1 does. Default off,
/// like the paper's implementation. A drawn chosen comes back as a negative equal to the chosen: with a pairwise
/// loss its log-ratio difference is identically 0, so it contributes no gradient.</param>
public sealed record SelectionOptions(SelectorKind Kind, double Beta = 0.1, int Count = 1, bool IncludeChosen = false);

/// <summary>
/// The MC kernel and the other negative selectors of MC-PO, in plain C# over one prompt's candidates.
/// Inputs are per-candidate sequence log-probs under the current policy and the (cached) reference;
/// <c>ρ_i = policy_i − reference_i</c> and the kernel logits are <c>β·ρ_i</c>.
/// </summary>
public static class NegativeSelector
{
    /// <summary>Indices of the selected negatives, in selection order (by weight for max/min/worst_rated).</summary>
    /// <param name="quality">Higher-is-better rating per candidate (score, or −rank); needed by worst_rated
    /// only.</param>
    public static int[] Select(
        SelectionOptions options,
        ReadOnlySpan<double> policyLogps,
        ReadOnlySpan<double> referenceLogps,
        int chosenIndex,
        SelectionRng rng,
        IReadOnlyList<double?>? quality = null
    )
    {
        int n = policyLogps.Length;
        if (referenceLogps.Length != n)
            throw new ArgumentException($"policy has {n} log-probs, reference {referenceLogps.Length}");
        if ((uint)chosenIndex >= (uint)n)
            throw new ArgumentOutOfRangeException(nameof(chosenIndex));
        if (options.Count < 1)
            throw new ArgumentOutOfRangeException(nameof(options), "Count (M) must be at least 1");

        bool withChosen = options.Kind == SelectorKind.Mc && options.IncludeChosen;
        int[] pool = Enumerable.Range(0, n).Where(i => withChosen || i != chosenIndex).ToArray();
        int m = Math.Min(options.Count, pool.Length);
        var logits = KernelLogits(policyLogps, referenceLogps, options.Beta);

        return options.Kind switch
        {
            SelectorKind.All => pool,
            SelectorKind.Mc => GumbelTopK(pool, i => logits[i], m, rng),
            SelectorKind.Random => GumbelTopK(pool, _ => 0.0, m, rng),
            SelectorKind.Max => Ordered(pool, i => -logits[i], m),
            SelectorKind.Min => Ordered(pool, i => logits[i], m),
            SelectorKind.WorstRated => Ordered(pool, i => RequireQuality(quality, i, n), m),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Kind, "unknown selector"),
        };
    }

    /// <summary>Kernel logits <c>β·(policy_i − reference_i)</c> for every candidate.</summary>
    public static double[] KernelLogits(
        ReadOnlySpan<double> policyLogps,
        ReadOnlySpan<double> referenceLogps,
        double beta
    )
    {
        var logits = new double[policyLogps.Length];
        for (int i = 0; i < logits.Length; i++)
            logits[i] = beta * (policyLogps[i] - referenceLogps[i]);
        return logits;
    }

    /// <summary>Kernel weights over the pool the mc selector samples from (rejected only, or all with the
    /// chosen).</summary>
    public static double[] KernelWeights(
        ReadOnlySpan<double> policyLogps,
        ReadOnlySpan<double> referenceLogps,
        int chosenIndex,
        double beta,
        bool includeChosen = false
    )
    {
        var logits = KernelLogits(policyLogps, referenceLogps, beta);
        var pool = Enumerable
            .Range(0, logits.Length)
            .Where(i => includeChosen || i != chosenIndex)
            .Select(i => logits[i])
            .ToArray();
        double max = pool.Max();
        var weights = pool.Select(l => Math.Exp(l - max)).ToArray();
        double sum = weights.Sum();
        for (int i = 0; i < weights.Length; i++)
            weights[i] /= sum;
        return weights;
    }

    /// <summary>Shannon entropy (nats) of the kernel's categorical: log(pool size) when uniform, 0 when
    /// one-hot.</summary>
    public static double KernelEntropy(
        ReadOnlySpan<double> policyLogps,
        ReadOnlySpan<double> referenceLogps,
        int chosenIndex,
        double beta,
        bool includeChosen = false
    ) =>
        -KernelWeights(policyLogps, referenceLogps, chosenIndex, beta, includeChosen)
            .Where(w => w > 0)
            .Sum(w => w * Math.Log(w));

    /// <summary>
    /// M draws without replacement from Categorical(softmax(logits)) over the pool: the M largest of
    /// <c>logit_i + Gumbel_i</c> (the Gumbel-top-k trick; for M = 1 it is exact categorical sampling).
    /// </summary>
    private static int[] GumbelTopK(int[] pool, Func<int, double> logit, int m, SelectionRng rng)
    {
        var perturbed = pool.Select(i => (Index: i, Key: logit(i) + rng.NextGumbel())).ToArray();
        return perturbed.OrderByDescending(p => p.Key).Take(m).Select(p => p.Index).ToArray();
    }

    /// <summary>The m pool members with the smallest key; ties go to the lower index (OrderBy is stable).</summary>
    private static int[] Ordered(int[] pool, Func<int, double> key, int m) => pool.OrderBy(key).Take(m).ToArray();

    private static double RequireQuality(IReadOnlyList<double?>? quality, int index, int n)
    {
        if (quality is null || quality.Count != n)
            throw new ArgumentException("worst_rated needs a score or rank for every candidate");
        return quality[index]
            ?? throw new ArgumentException($"worst_rated: candidate {index} has neither score nor rank");
    }
}
