using AlignCluster.Alignment.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Alignment.Metrics;

/// <summary>
/// Per-batch training metrics under TRL's names, so users recognise them (docs/alignment.md, "Metrics"):
/// <c>rewards/chosen = β·ρ(y_w)</c>, <c>rewards/rejected = β·ρ(y_l)</c>, <c>rewards/margins</c>,
/// <c>rewards/accuracies</c> (fraction of pairs with margin &gt; 0), <c>logps/chosen</c>, <c>logps/rejected</c>;
/// plus MinorDPO's β-free <c>normalized_rewards/chosen = ρ(y_w)</c> and <c>normalized_rewards/rejected = ρ(y_l)</c>.
/// With M negatives per prompt every (chosen, negative) pair counts once; all values are means.
/// </summary>
public static class PreferenceMetrics
{
    public const string RewardsChosen = "rewards/chosen";
    public const string RewardsRejected = "rewards/rejected";
    public const string RewardsMargins = "rewards/margins";
    public const string RewardsAccuracies = "rewards/accuracies";
    public const string LogpsChosen = "logps/chosen";
    public const string LogpsRejected = "logps/rejected";
    public const string NormalizedRewardsChosen = "normalized_rewards/chosen";
    public const string NormalizedRewardsRejected = "normalized_rewards/rejected";

    /// <summary>Computes the metrics for a batch laid out as in the losses: column 0 chosen, columns 1..M
    /// negatives.</summary>
    /// <param name="policyLogps">[prompt][candidate] sequence log-probs under the policy.</param>
    /// <param name="referenceLogps">Same shape, under the reference.</param>
    public static Dictionary<string, double> Compute(
        IReadOnlyList<double[]> policyLogps,
        IReadOnlyList<double[]> referenceLogps,
        double beta
    )
    {
        if (policyLogps.Count != referenceLogps.Count || policyLogps.Count == 0)
            throw new ArgumentException("need the same, non-zero number of prompts for policy and reference");
        double chosenRatio = 0,
            rejectedRatio = 0,
            chosenLogp = 0,
            rejectedLogp = 0,
            margin = 0,
            correct = 0;
        int pairs = 0;
        for (int b = 0; b < policyLogps.Count; b++)
        {
            var policy = policyLogps[b];
            var reference = referenceLogps[b];
            if (policy.Length < 2 || reference.Length != policy.Length)
                throw new ArgumentException(
                    $"prompt {b}: need a chosen and at least one negative, with matching reference"
                );
            double rhoW = policy[0] - reference[0];
            for (int i = 1; i < policy.Length; i++)
            {
                double rhoL = policy[i] - reference[i];
                chosenRatio += rhoW;
                rejectedRatio += rhoL;
                chosenLogp += policy[0];
                rejectedLogp += policy[i];
                margin += beta * (rhoW - rhoL);
                if (rhoW - rhoL > 0)
                    correct++;
                pairs++;
            }
        }
        return new Dictionary<string, double>
        {
            [RewardsChosen] = beta * chosenRatio / pairs,
            [RewardsRejected] = beta * rejectedRatio / pairs,
            [RewardsMargins] = margin / pairs,
            [RewardsAccuracies] = correct / pairs,
            [LogpsChosen] = chosenLogp / pairs,
            [LogpsRejected] = rejectedLogp / pairs,
            [NormalizedRewardsChosen] = chosenRatio / pairs,
            [NormalizedRewardsRejected] = rejectedRatio / pairs,
        };
    }

    /// <summary>The same metrics from a loss batch's tensors (read without gradient; needs reference
    /// log-probs).</summary>
    public static Dictionary<string, double> Compute(LossBatch batch, double beta)
    {
        var reference = batch.ReferenceLogps ?? throw new ArgumentException("metrics need reference log-probs");
        return Compute(Rows(batch.PolicyLogps), Rows(reference), beta);
    }

    private static List<double[]> Rows(Tensor t)
    {
        long columns = t.shape[1];
        var values = t.detach().to(ScalarType.Float64, torch.CPU).data<double>().ToArray();
        return values.Chunk((int)columns).ToList();
    }
}
