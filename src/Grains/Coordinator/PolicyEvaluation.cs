using AlignCluster.Alignment.Evaluation;
using AlignCluster.Contracts;
using AlignCluster.Grains.Demo;
using AlignCluster.Grains.Policy;

namespace AlignCluster.Grains.Coordinator;

/// <summary>
/// Held-out evaluation (docs/alignment.md "Evaluation"): sample from the policy and from the reference on the same
/// prompts
/// with the same seeds, rate both with the reward function; report the policy's mean reward, the adjusted win-rate
/// (wins + ties/2)/n of policy samples against the reference samples drawn with the same seed, and
/// KL(π_θ‖π_ref) ≈ mean over policy samples of logp_θ(y) − logp_ref(y).
/// Preference files have no oracle: given the held-out prompts' candidate sets, the evaluation also reports how the
/// policy's implicit reward ranks them (<see cref="PreferenceAccuracyAsync"/>). Sampling is skipped when the reward
/// function cannot read the policy's texts (the reverse_digits rule with an hf policy): then Samples is 0.
/// </summary>
public static class PolicyEvaluation
{
    public static async Task<EvalResult> EvaluateAsync(
        ITrainerGrain trainer,
        IRewardFunction reward,
        PromptRef[] prompts,
        RunConfig config,
        CancellationToken ct = default,
        PromptGroup[]? heldOutGroups = null
    )
    {
        var preference = heldOutGroups is { Length: > 0 }
            ? await PreferenceAccuracyAsync(
                trainer,
                heldOutGroups,
                Training.AlignmentGroupLoss.MetricBeta(CoordinatorService.LossSpecOf(config))
            )
            : null;
        if (!RewardApplies(config))
            return new EvalResult(0, 0, 0, 0, 0, preference);
        var seed = SeededRandom.Derive(config.Seed, "eval"); // the same draws every round: curves differ by the policy only
        var request = new GenerateRequest(
            prompts,
            config.Eval.SamplesPerPrompt,
            config.Eval.Temperature,
            config.Policy.MaxResponseLength,
            seed
        );
        var policy = await trainer.GenerateAsync(request);
        var reference = await trainer.GenerateAsync(request with { FromReference = true });
        var byId = prompts.ToDictionary(p => p.PromptId, p => p.PromptTokenIds);
        var policyRewards = await reward.RateAsync(policy.Select(s => (byId[s.PromptId], s.TokenIds)).ToList(), ct);
        var referenceRewards = await reward.RateAsync(
            reference.Select(s => (byId[s.PromptId], s.TokenIds)).ToList(),
            ct
        );
        var winRate = WinRate.From(policyRewards.Zip(referenceRewards, (p, r) => p > r ? Verdict.CandidateWins
                : p < r ? Verdict.BaselineWins
                : Verdict.Tie));
        double kl = RewardKlFrontier.EstimateKl(
            policy.Select(s => s.PolicyLogProb).ToList(),
            policy.Select(s => s.ReferenceLogProb).ToList()
        );
        return new EvalResult(
            policyRewards.Average(),
            referenceRewards.Average(),
            winRate.Adjusted,
            kl,
            policyRewards.Length,
            preference
        );
    }

    /// <summary>
    /// The reward rules read the toy vocabulary's digits; an hf policy's ids are its own tokenizer's, so a rule cannot
    /// rate them (an HTTP judge can).
    /// </summary>
    public static bool RewardApplies(RunConfig config) => !(config.Reward.Kind == "rule" && config.Policy.Kind == "hf");

    /// <summary>
    /// Scores every held-out candidate under the policy and the reference and compares the chosen with each candidate
    /// rated strictly below it by r(y) = β·(logπ_θ(y|x) − logπ_ref(y|x)). Cached reference log-probs are used when
    /// present.
    /// </summary>
    public static async Task<PreferenceEval> PreferenceAccuracyAsync(
        ITrainerGrain trainer,
        PromptGroup[] groups,
        double beta
    )
    {
        var policy = (await trainer.ScoreAsync(groups, reference: false)).ToDictionary(
            s => s.PromptId,
            s => s.LogProbs
        );
        var unscored = groups.Where(g => g.Candidates.Any(c => c.ReferenceLogProb is null)).ToArray();
        var reference =
            unscored.Length == 0
                ? []
                : (await trainer.ScoreAsync(unscored, reference: true)).ToDictionary(s => s.PromptId, s => s.LogProbs);
        var pairs = new List<(double Chosen, double Rejected)>();
        foreach (var g in groups)
        {
            double Reward(int i) =>
                beta * (policy[g.PromptId][i] - (g.Candidates[i].ReferenceLogProb ?? reference[g.PromptId][i]));
            var chosen = g.Candidates[g.ChosenIndex];
            for (int i = 0; i < g.Candidates.Length; i++)
                if (g.Candidates[i].Rating < chosen.Rating)
                    pairs.Add((Reward(g.ChosenIndex), Reward(i)));
        }
        if (pairs.Count == 0)
            return new PreferenceEval(0, 0, 0, 0, 0, beta);
        return new PreferenceEval(
            pairs.Count,
            pairs.Count(p => p.Chosen > p.Rejected) / (double)pairs.Count,
            pairs.Average(p => p.Chosen - p.Rejected),
            pairs.Average(p => p.Chosen),
            pairs.Average(p => p.Rejected),
            beta
        );
    }
}
