using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Alignment.Losses;

/// <summary>
/// EXO (exo.txt; code haozheji/exact-optimization) and the generalised DPO it compares against. Over the K responses
/// of a prompt, <c>f(y) = β_π·ρ(y)</c> and <c>p_f = softmax(f)</c>. Results are per prompt (B).
/// </summary>
public static class ExoLosses
{
    /// <summary>(B, K) log p_f = log_softmax(β_π·ρ).</summary>
    private static Tensor PolicyLogDistribution(LossBatch batch, string loss, double betaPi) =>
        (batch.LogRatios(loss) * betaPi).log_softmax(1);

    /// <summary>Σ_i p(i)·(log p(i) − log q(i)) over the last dim, from log-probabilities: (B, K) → (B).</summary>
    private static Tensor Kl(Tensor logP, Tensor logQ) => (logP.exp() * (logP - logQ)).sum(1);

    /// <summary>
    /// exo_pref (K = 2): <c>KL(p_f ‖ p_h)</c> with target <c>p_h = [1−ε, ε]</c> for [chosen, rejected];
    /// ε = 1e-3 as in the paper (the authors' code uses an unnormalised target with log ε = −10; TRL's exo_pair uses
    /// this paper form). Source: EXO (Ji et al.), preference setting.
    /// </summary>
    public static Tensor ExoPref(LossBatch batch, double betaPi, double epsilon)
    {
        batch.Validate("exo_pref", exactResponses: 2);
        return LossTensors.Scoped(() =>
        {
            var logPf = PolicyLogDistribution(batch, "exo_pref", betaPi); // (B, 2)
            var logPh = torch.tensor(
                new[] { Math.Log(1 - epsilon), Math.Log(epsilon) },
                [1, 2], // (1, 2)
                dtype: logPf.dtype,
                device: logPf.device
            );
            return Kl(logPf, logPh);
        });
    }

    /// <summary>
    /// exo_rw (K ≥ 2 responses with rewards R from a reward model or rule, in the batch's scores):
    /// <c>p_r = softmax(R / β_r)</c>, <c>L = KL(p_f ‖ p_r)</c> — the reverse, mode-seeking KL. With K = 2 and
    /// <c>R = β_r·log[1−ε, ε]</c> it equals exo_pref. Source: EXO (Ji et al.), reward setting.
    /// </summary>
    public static Tensor ExoRw(LossBatch batch, double betaPi, double betaR)
    {
        batch.Validate("exo_rw");
        return LossTensors.Scoped(() =>
            Kl(PolicyLogDistribution(batch, "exo_rw", betaPi), (batch.Ratings("exo_rw") / betaR).log_softmax(1))
        );
    }

    /// <summary>
    /// dpo_rw: <c>L = −Σ_i p_r(i)·log p_f(i)</c>, the forward-KL (cross-entropy) counterpart of exo_rw — the
    /// generalised DPO that EXO compares against. Source: EXO (Ji et al.).
    /// </summary>
    public static Tensor DpoRw(LossBatch batch, double betaPi, double betaR)
    {
        batch.Validate("dpo_rw");
        return LossTensors.Scoped(() =>
        {
            var pR = (batch.Ratings("dpo_rw") / betaR).softmax(1); // (B, K), no gradient: scores are data
            return -(pR * PolicyLogDistribution(batch, "dpo_rw", betaPi)).sum(1);
        });
    }
}
