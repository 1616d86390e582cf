using TorchSharp;
using static AlignCluster.Alignment.Losses.LossTensors;
using static TorchSharp.torch;

namespace AlignCluster.Alignment.Losses;

/// <summary>
/// MPPO's reference-free losses (arXiv 2412.15244; formulas as docs/alignment.md states them, since the paper text lost
/// them). Reward = geometric-mean token likelihood <c>p(y) = exp(logp_θ(y)/len(y))</c> ∈ (0, 1]. A row holds the
/// N + 1 responses of a prompt, the best-scored first; scores (the paper divides 1–10 ratings by 10) are used where a
/// formula names them. Sums over responses/pairs are per prompt; results are per prompt (B).
/// </summary>
public static class MppoLosses
{
    /// <summary>(B, K) log p(y) = logp_θ(y)/len(y).</summary>
    private static Tensor LogLikelihood(LossBatch batch, string loss) => batch.PolicyLogps / batch.Lengths(loss);

    private static Tensor Likelihood(LossBatch batch, string loss) => LogLikelihood(batch, loss).exp();

    /// <summary>
    /// point_ce: <c>Σ_i −[s_i·log p(y_i) + (1−s_i)·log(1 − p(y_i))]</c>, a binary cross-entropy per response with
    /// its score as the target; <c>log(1 − p)</c> via <c>log(−expm1(log p))</c>. Source: MPPO, point-wise.
    /// </summary>
    public static Tensor PointCe(LossBatch batch)
    {
        batch.Validate("point_ce", minResponses: 1);
        return Scoped(() =>
        {
            var logP = LogLikelihood(batch, "point_ce"); // (B, K)
            var log1mP = (-logP.expm1()).log();
            var s = batch.Ratings("point_ce");
            return (-(s * logP + (1.0 - s) * log1mP)).sum(1);
        });
    }

    /// <summary>point_mse: <c>Σ_i (s_i − p(y_i))²</c> (the paper prints a stray leading minus). Source: MPPO,
    /// point-wise.</summary>
    public static Tensor PointMse(LossBatch batch)
    {
        batch.Validate("point_mse", minResponses: 1);
        return Scoped(() => (batch.Ratings("point_mse") - Likelihood(batch, "point_mse")).square().sum(1));
    }

    /// <summary>pair_single: <c>−log σ(p(y_w) − p(y_l))</c>, the best (column 0) against one negative (column 1).
    /// Source: MPPO eq. 8.</summary>
    public static Tensor PairSingle(LossBatch batch)
    {
        batch.Validate("pair_single");
        return Scoped(() =>
        {
            var p = Likelihood(batch, "pair_single");
            return -(p.select(1, 0) - p.select(1, 1)).log_sigmoid();
        });
    }

    /// <summary>pair_mns: <c>−Σ_{i=1..N} log σ(p(y_w) − p(y_{l_i}))</c>, best against each other response separately.
    /// Source: MPPO eq. 9.</summary>
    public static Tensor PairMns(LossBatch batch)
    {
        batch.Validate("pair_mns");
        return Scoped(() =>
        {
            var p = Likelihood(batch, "pair_mns");
            return (-(Chosen(p) - Others(p)).log_sigmoid()).sum(1);
        });
    }

    /// <summary>
    /// pair_mnm: <c>−log σ(N·p(y_w) − Σ_{i=1..N} p(y_{l_i}))</c>, best against all others merged — the paper's best
    /// variant. With N = 1 it equals pair_single. Source: MPPO eq. 10.
    /// </summary>
    public static Tensor PairMnm(LossBatch batch)
    {
        batch.Validate("pair_mnm");
        return Scoped(() =>
        {
            var p = Likelihood(batch, "pair_mnm");
            long n = batch.Responses - 1;
            return -(p.select(1, 0) * n - Others(p).sum(1)).log_sigmoid();
        });
    }

    /// <summary>
    /// (B, K, K) <c>p(y_a) − p(y_b)</c> and the 0/1 mask of score-ordered pairs <c>s_a &gt; s_b</c> (ties excluded).
    /// </summary>
    private static (Tensor Differences, Tensor Ordered) ScoredPairs(LossBatch batch, string loss)
    {
        var p = Likelihood(batch, loss); // (B, K)
        var s = batch.Ratings(loss);
        var differences = p.unsqueeze(2) - p.unsqueeze(1); // (B, K, 1) − (B, 1, K) → (B, K, K)
        var ordered = s.unsqueeze(2).gt(s.unsqueeze(1)).to_type(p.dtype); // (B, K, K), 1 where s_a > s_b
        return (differences, ordered);
    }

    /// <summary>pair_mcs: <c>−Σ_{(a,b): s_a &gt; s_b} log σ(p(y_a) − p(y_b))</c> over every score-ordered pair. Source:
    /// MPPO.</summary>
    public static Tensor PairMcs(LossBatch batch)
    {
        batch.Validate("pair_mcs");
        return Scoped(() =>
        {
            var (differences, ordered) = ScoredPairs(batch, "pair_mcs");
            return -(ordered * differences.log_sigmoid()).sum([1L, 2L]);
        });
    }

    /// <summary>pair_mcm: <c>−log σ(Σ_{(a,b): s_a &gt; s_b} (p(y_a) − p(y_b)))</c>, the score-ordered pairs merged.
    /// Source: MPPO.</summary>
    public static Tensor PairMcm(LossBatch batch)
    {
        batch.Validate("pair_mcm");
        return Scoped(() =>
        {
            var (differences, ordered) = ScoredPairs(batch, "pair_mcm");
            return -(ordered * differences).sum([1L, 2L]).log_sigmoid();
        });
    }

    /// <summary>
    /// list_mle: <c>−Σ_{i=1..N+1} [p(y_(i)) − log Σ_{j≥i} exp(p(y_(j)))]</c> with responses sorted by descending
    /// score (Plackett–Luce likelihood of the ranking, with p as the logit). Equal scores keep their column order, so
    /// the value is deterministic. Source: MPPO, list-wise (List-MLE, Lan et al. 2014).
    /// </summary>
    public static Tensor ListMle(LossBatch batch)
    {
        batch.Validate("list_mle");
        return Scoped(() =>
        {
            var p = Likelihood(batch, "list_mle"); // (B, K)
            var sorted = p.gather(1, DescendingOrder(batch.Ratings("list_mle")));
            long k = batch.Responses;
            // tails[b, i] = Σ_{j ≥ i} exp(sorted[b, j]) = exp(sorted) · Uᵀ with U upper-triangular ones.
            // p ∈ (0, 1] so exp cannot overflow and no max-shift is needed.
            var upper = torch.ones(k, k, dtype: p.dtype, device: p.device).triu(); // (K, K)
            var tails = sorted.exp().matmul(upper.t()); // (B, K)
            return -(sorted - tails.log()).sum(1);
        });
    }

    /// <summary>Per row, the column indices by descending score, ties in column order: Int64 (B, K). Scores carry no
    /// gradient.</summary>
    private static Tensor DescendingOrder(Tensor scores)
    {
        long rows = scores.shape[0],
            columns = scores.shape[1];
        var values = scores.detach().to(ScalarType.Float64, torch.CPU).data<double>().ToArray();
        var order = new long[rows * columns];
        for (long r = 0; r < rows; r++)
        {
            // stable
            var row = Enumerable.Range(0, (int)columns).OrderByDescending(c => values[r * columns + c]).ToArray();
            for (long c = 0; c < columns; c++)
                order[r * columns + c] = row[c];
        }
        return torch.tensor(order, [rows, columns], device: scores.device);
    }
}
