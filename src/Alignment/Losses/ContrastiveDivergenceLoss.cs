using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Alignment.Losses;

/// <summary>MC-PO's contrastive-divergence loss over the chosen and M sampled negatives.</summary>
public static class ContrastiveDivergenceLoss
{
    /// <summary>
    /// cd: <c>L_CD = −log( exp(r(y_0)) / Σ_{i=0..M} exp(r(y_i)) )</c> with <c>r = β·ρ</c>: cross-entropy for picking
    /// the
    /// chosen among the M + 1 responses. With M = 1 it equals dpo exactly. Source: MC-PO eq. 11/12
    /// (mc-po-contrastive-divergence.txt).
    /// </summary>
    public static Tensor Cd(LossBatch batch, double beta)
    {
        batch.Validate("cd");
        return LossTensors.Scoped(() => -(batch.LogRatios("cd") * beta).log_softmax(1).select(1, 0)); // (B, K) → (B)
    }
}
