using TorchSharp;
using static AlignCluster.Alignment.Losses.LossTensors;
using static TorchSharp.torch;

namespace AlignCluster.Alignment.Losses;

/// <summary>
/// Pairwise preference losses against a frozen reference (docs/alignment.md, "Losses"). Notation:
/// <c>ρ(y) = logp_θ(y) − logp_ref(y)</c>, <c>ρ_w</c> for the chosen (column 0), <c>ρ_l</c> for a negative,
/// <c>d = ρ_w − ρ_l</c>. With M negatives per prompt each loss is the mean over the M (chosen, negative) pairs —
/// with the <c>all</c> selector that is MC-PO's "augmented DPO". Every function returns per-prompt losses (B).
/// </summary>
public static class PairwiseLosses
{
    /// <summary>(B, M) d = ρ_w − ρ_l for every (chosen, negative) pair.</summary>
    private static Tensor Margins(LossBatch batch, string loss)
    {
        var rho = batch.LogRatios(loss); // (B, K)
        return Chosen(rho) - Others(rho); // (B, 1) − (B, M) → (B, M)
    }

    private static Tensor PairMean(LossBatch batch, string loss, Func<Tensor, Tensor> perPair)
    {
        batch.Validate(loss);
        return Scoped(() => perPair(Margins(batch, loss)).mean([1])); // (B, M) → (B)
    }

    /// <summary>dpo (sigmoid): <c>−log σ(β d)</c>. Source: Rafailov et al., DPO; MC-PO eq. 4.</summary>
    public static Tensor Dpo(LossBatch batch, double beta) => PairMean(batch, "dpo", d => -(d * beta).log_sigmoid());

    /// <summary>
    /// ipo: <c>(d̄ − 1/(2β))²</c> where <c>d̄</c> uses per-token-averaged log-probs,
    /// <c>d̄ = ρ_w/len(y_w) − ρ_l/len(y_l)</c>. Source: Azar et al. (IPO); TRL.
    /// </summary>
    public static Tensor Ipo(LossBatch batch, double beta)
    {
        batch.Validate("ipo");
        return Scoped(() =>
        {
            var rhoPerToken = batch.LogRatios("ipo") / batch.Lengths("ipo"); // (B, K)
            var dBar = Chosen(rhoPerToken) - Others(rhoPerToken); // (B, M)
            return (dBar - 1 / (2 * beta)).square().mean([1]);
        });
    }

    /// <summary>hinge: <c>max(0, 1 − β d)</c>. Source: SLiC (Zhao et al.); TRL.</summary>
    public static Tensor Hinge(LossBatch batch, double beta) => PairMean(batch, "hinge", d => (1.0 - d * beta).relu());

    /// <summary>
    /// robust: <c>[−(1−ε) log σ(βd) + ε log σ(−βd)] / (1−2ε)</c>, unbiased under label-flip rate ε &lt; ½.
    /// Source: Chowdhury et al. (rDPO); TRL.
    /// </summary>
    public static Tensor Robust(LossBatch batch, double beta, double epsilon) =>
        PairMean(batch, "robust", d =>
            (-(1 - epsilon) * (d * beta).log_sigmoid() + epsilon * (d * -beta).log_sigmoid()) / (1 - 2 * epsilon)
        );

    /// <summary>cdpo: <c>−(1−ε) log σ(βd) − ε log σ(−βd)</c> (label smoothing). Source: conservative DPO; TRL
    /// <c>label_smoothing</c>.</summary>
    public static Tensor Cdpo(LossBatch batch, double beta, double epsilon) =>
        PairMean(batch, "cdpo", d => -(1 - epsilon) * (d * beta).log_sigmoid() - epsilon * (d * -beta).log_sigmoid());

    /// <summary>
    /// minor_dpo: <c>−log σ(β ρ_w − β max(0, ρ_l))</c>: a negative already below the reference is not pushed further.
    /// Equals dpo whenever ρ_l ≥ 0. Source: MinorDPO eq. 6.
    /// </summary>
    public static Tensor MinorDpo(LossBatch batch, double beta)
    {
        batch.Validate("minor_dpo");
        return Scoped(() =>
        {
            var rho = batch.LogRatios("minor_dpo"); // (B, K)
            var inner = Chosen(rho) * beta - Others(rho).relu() * beta; // (B, M)
            return (-inner.log_sigmoid()).mean([1]);
        });
    }

    /// <summary>
    /// dpop: <c>−log σ(β d − β λ max(0, −ρ_w))</c>: penalises the chosen falling below the reference.
    /// λ default 50. Source: Smaug/DPOP (Pal et al.); MinorDPO eq. 5.
    /// </summary>
    public static Tensor Dpop(LossBatch batch, double beta, double lambda)
    {
        batch.Validate("dpop");
        return Scoped(() =>
        {
            var rho = batch.LogRatios("dpop");
            var penalty = (-Chosen(rho)).relu() * (beta * lambda); // (B, 1)
            return (-(Margins(batch, "dpop") * beta - penalty).log_sigmoid()).mean([1]);
        });
    }

    /// <summary>nca_pair: <c>−log σ(β ρ_w) − ½ log σ(−β ρ_w) − ½ log σ(−β ρ_l)</c>. Source: Chen et al. (NCA);
    /// TRL.</summary>
    public static Tensor NcaPair(LossBatch batch, double beta)
    {
        batch.Validate("nca_pair");
        return Scoped(() =>
        {
            var rho = batch.LogRatios("nca_pair");
            var w = Chosen(rho) * beta; // (B, 1)
            var l = Others(rho) * beta; // (B, M)
            return (-w.log_sigmoid() - 0.5 * (-w).log_sigmoid() - 0.5 * (-l).log_sigmoid()).mean([1]);
        });
    }

    /// <summary>
    /// bco_pair: <c>−log σ(β ρ_w) − log σ(−β ρ_l)</c>. TRL also subtracts a running-mean reward shift δ; we do not
    /// (it is trainer state, not a function of the batch). Source: Jung et al. (BCO); TRL.
    /// </summary>
    public static Tensor BcoPair(LossBatch batch, double beta)
    {
        batch.Validate("bco_pair");
        return Scoped(() =>
        {
            var rho = batch.LogRatios("bco_pair");
            return (-(Chosen(rho) * beta).log_sigmoid() - (Others(rho) * -beta).log_sigmoid()).mean([1]);
        });
    }

    /// <summary>sppo_hard: <c>(ρ_w − 1/(2β))² + (ρ_l + 1/(2β))²</c>. Source: Wu et al. (SPPO); TRL.</summary>
    public static Tensor SppoHard(LossBatch batch, double beta)
    {
        batch.Validate("sppo_hard");
        return Scoped(() =>
        {
            var rho = batch.LogRatios("sppo_hard");
            double half = 1 / (2 * beta);
            return ((Chosen(rho) - half).square() + (Others(rho) + half).square()).mean([1]);
        });
    }

    /// <summary>apo_zero: <c>(1 − σ(β ρ_w)) + σ(β ρ_l)</c>. Source: D'Oosterlinck et al. (APO); TRL.</summary>
    public static Tensor ApoZero(LossBatch batch, double beta)
    {
        batch.Validate("apo_zero");
        return Scoped(() =>
        {
            var rho = batch.LogRatios("apo_zero");
            return (1.0 - (Chosen(rho) * beta).sigmoid() + (Others(rho) * beta).sigmoid()).mean([1]);
        });
    }

    /// <summary>apo_down: <c>σ(β ρ_w) + (1 − σ(β d))</c>. Source: D'Oosterlinck et al. (APO); TRL.</summary>
    public static Tensor ApoDown(LossBatch batch, double beta)
    {
        batch.Validate("apo_down");
        return Scoped(() =>
        {
            var rho = batch.LogRatios("apo_down");
            return ((Chosen(rho) * beta).sigmoid() + (1.0 - (Margins(batch, "apo_down") * beta).sigmoid())).mean([1]);
        });
    }
}
