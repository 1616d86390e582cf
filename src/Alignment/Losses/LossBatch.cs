using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Alignment.Losses;

/// <summary>
/// What every loss reads: one row per prompt, one column per response of that prompt. Column 0 is the chosen
/// response (for MPPO: the best-scored one); columns 1..K−1 are the selected negatives (chosen + M negatives,
/// K = M + 1) or the rest of a scored group. All rows of a batch have the same K; the trainer groups prompts by K.
/// Log-probs are sequence sums over response tokens only (prompt tokens masked).
/// </summary>
/// <param name="PolicyLogps">(B, K) <c>logp_θ(y)</c>, with autograd history when training.</param>
/// <param name="ReferenceLogps">(B, K) cached <c>logp_ref(y)</c>; null for reference-free losses.</param>
/// <param name="TokenCounts">(B, K) <c>len(y)</c> as a floating-point tensor; needed by length-normalised
/// losses.</param>
/// <param name="Scores">(B, K) ratings, higher is better; needed by MPPO's point/mc*/list losses and
/// exo_rw/dpo_rw.</param>
public sealed record LossBatch(
    Tensor PolicyLogps,
    Tensor? ReferenceLogps = null,
    Tensor? TokenCounts = null,
    Tensor? Scores = null
)
{
    /// <summary>B, the number of prompts.</summary>
    public long Prompts => PolicyLogps.shape[0];

    /// <summary>K, the responses per prompt.</summary>
    public long Responses => PolicyLogps.shape[1];

    internal Tensor Reference(string loss) => ReferenceLogps ?? throw Missing(loss, "reference log-probs");

    internal Tensor Lengths(string loss) => TokenCounts ?? throw Missing(loss, "token counts");

    internal Tensor Ratings(string loss) => Scores ?? throw Missing(loss, "scores");

    /// <summary>ρ(y) = logp_θ(y) − logp_ref(y): (B, K).</summary>
    internal Tensor LogRatios(string loss) => PolicyLogps - Reference(loss);

    /// <summary>Checks the layout once per call so a wrong batch fails with the loss's name, not a libtorch
    /// message.</summary>
    internal void Validate(string loss, int minResponses = 2, int? exactResponses = null)
    {
        if (PolicyLogps.ndim != 2)
            throw new ArgumentException(
                $"{loss}: policy log-probs must be (B, K), got [{string.Join(", ", PolicyLogps.shape)}]"
            );
        long k = Responses;
        if (exactResponses is int exact && k != exact)
            throw new ArgumentException($"{loss}: needs exactly {exact} responses per prompt, got {k}");
        if (k < minResponses)
            throw new ArgumentException(
                $"{loss}: needs at least {minResponses} responses per prompt (chosen + negatives), got {k}"
            );
        foreach (
            var (name, tensor) in new[]
            {
                ("reference log-probs", ReferenceLogps),
                ("token counts", TokenCounts),
                ("scores", Scores),
            }
        )
            if (tensor is not null && !tensor.shape.SequenceEqual(PolicyLogps.shape))
                throw new ArgumentException(
                    $"{loss}: {name} have shape [{string.Join(", ", tensor.shape)}], policy log-probs "
                        + $"[{string.Join(", ", PolicyLogps.shape)}]"
                );
    }

    private static ArgumentException Missing(string loss, string what) =>
        new($"{loss}: needs {what}, which the batch does not carry");
}

/// <summary>Small tensor helpers shared by the loss files.</summary>
internal static class LossTensors
{
    /// <summary>Column 0 (the chosen), kept 2-D so it broadcasts against the negatives: (B, K) → (B, 1).</summary>
    public static Tensor Chosen(Tensor t) => t.narrow(1, 0, 1);

    /// <summary>Columns 1..K−1 (the negatives / the rest): (B, K) → (B, K−1).</summary>
    public static Tensor Others(Tensor t) => t.narrow(1, 1, t.shape[1] - 1);

    /// <summary>
    /// Runs <paramref name="body"/> in its own dispose scope and hands only its result to the caller's scope, so the
    /// intermediates of a loss are freed as soon as it returns (autograd keeps what backward needs alive natively).
    /// </summary>
    public static Tensor Scoped(Func<Tensor> body)
    {
        using var scope = torch.NewDisposeScope();
        return body().MoveToOuterDisposeScope();
    }
}
