using AlignCluster.Alignment.Evaluation;
using AlignCluster.Grains.Demo;
using AlignCluster.Grains.Policy;
using AlignCluster.Interfaces;

namespace AlignCluster.Grains.Services;

/// <summary>
/// Held-out evaluation (ALGORITHMS.md "Evaluation"): sample from the policy and from the reference on the same prompts
/// with the same seeds, rate both with the reward function; report the policy's mean reward, the adjusted win-rate
/// (wins + ties/2)/n of policy samples against the reference samples drawn with the same seed, and
/// KL(π_θ‖π_ref) ≈ mean over policy samples of logp_θ(y) − logp_ref(y).
/// </summary>
public static class PolicyEvaluation
{
    public static async Task<EvalResult> EvaluateAsync(ITrainerGrain trainer, IRewardFunction reward, PromptRef[] prompts,
        RunConfig config, CancellationToken ct = default)
    {
        var seed = SeededRandom.Derive(config.Seed, "eval"); // the same draws every round: curves differ by the policy only
        var request = new GenerateRequest(prompts, config.Eval.SamplesPerPrompt, config.Eval.Temperature, config.Policy.MaxResponseLength, seed);
        var policy = await trainer.GenerateAsync(request);
        var reference = await trainer.GenerateAsync(request with { FromReference = true });
        var byId = prompts.ToDictionary(p => p.PromptId, p => p.PromptTokenIds);
        var policyRewards = await reward.RateAsync(policy.Select(s => (byId[s.PromptId], s.TokenIds)).ToList(), ct);
        var referenceRewards = await reward.RateAsync(reference.Select(s => (byId[s.PromptId], s.TokenIds)).ToList(), ct);
        var winRate = WinRate.From(policyRewards.Zip(referenceRewards, (p, r) =>
            p > r ? Verdict.CandidateWins : p < r ? Verdict.BaselineWins : Verdict.Tie));
        double kl = RewardKlFrontier.EstimateKl(policy.Select(s => s.PolicyLogProb).ToList(), policy.Select(s => s.ReferenceLogProb).ToList());
        return new EvalResult(policyRewards.Average(), referenceRewards.Average(), winRate.Adjusted, kl, policyRewards.Length);
    }
}
