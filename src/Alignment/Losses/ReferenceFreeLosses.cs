using TorchSharp;
using static AlignCluster.Alignment.Losses.LossTensors;
using static TorchSharp.torch;

namespace AlignCluster.Alignment.Losses;

/// <summary>
/// Pairwise losses that need no reference model (docs/alignment.md, "Losses"). As in
/// <see cref="PairwiseLosses"/>, M negatives give the mean over the M pairs; results are per prompt (B).
/// </summary>
public static class ReferenceFreeLosses
{
    /// <summary>
    /// simpo: <c>−log σ(β/len(y_w)·logp_θ(y_w) − β/len(y_l)·logp_θ(y_l) − γ)</c>: length-normalised reward with a
    /// target margin γ. Source: Meng et al. (SimPO).
    /// </summary>
    public static Tensor Simpo(LossBatch batch, double beta, double gamma)
    {
        batch.Validate("simpo");
        return Scoped(() =>
        {
            var reward = batch.PolicyLogps / batch.Lengths("simpo") * beta; // (B, K)
            return (-(Chosen(reward) - Others(reward) - gamma).log_sigmoid()).mean([1]);
        });
    }

    /// <summary>
    /// cpo: <c>−log σ(β(logp_θ(y_w) − logp_θ(y_l))) + NLL(y_w)</c> with <c>NLL(y_w) = −logp_θ(y_w)</c> (sequence sum,
    /// as docs/alignment.md writes it; TRL averages per token). Source: Xu et al. (CPO).
    /// </summary>
    public static Tensor Cpo(LossBatch batch, double beta)
    {
        batch.Validate("cpo");
        return Scoped(() =>
        {
            var logp = batch.PolicyLogps; // (B, K)
            var preference = -((Chosen(logp) - Others(logp)) * beta).log_sigmoid(); // (B, M)
            return (preference - Chosen(logp)).mean([1]);
        });
    }

    /// <summary>
    /// orpo: <c>NLL(y_w)/len(y_w) − λ log σ(log odds(y_w) − log odds(y_l))</c> with <c>odds = P/(1−P)</c>,
    /// <c>P = exp(logp_θ(y)/len(y))</c>. <c>log(1 − P)</c> is computed as <c>log(−expm1(logp/len))</c> to stay
    /// accurate when P is close to 0 or 1. Source: Hong et al. (ORPO).
    /// </summary>
    public static Tensor Orpo(LossBatch batch, double lambda)
    {
        batch.Validate("orpo");
        return Scoped(() =>
        {
            var logP = batch.PolicyLogps / batch.Lengths("orpo"); // (B, K) mean token log-prob ≤ 0
            var logOdds = logP - (-logP.expm1()).log(); // log P − log(1 − P)
            var ratio = (Chosen(logOdds) - Others(logOdds)).log_sigmoid(); // (B, M)
            return (-Chosen(logP) - lambda * ratio).mean([1]);
        });
    }
}
