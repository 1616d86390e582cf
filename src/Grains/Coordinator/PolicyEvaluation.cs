using AlignCluster.Contracts;
using AlignCluster.Grains.Policy;

namespace AlignCluster.Grains.Coordinator;

/// <summary>
/// Held-out evaluation (docs/alignment.md "Evaluation"), asked of the trainer: it samples from the policy and from
/// the reference on the same prompts with the same seeds and rates both with the run's reward function
/// (<see cref="Training.CandidateGeneration.EvaluateSamplesAsync"/>), so only the metrics come back here.
/// Preference files have no oracle: given the held-out prompts' candidate sets, the evaluation also reports how the
/// policy's implicit reward ranks them (<see cref="PreferenceAccuracyAsync"/>). Sampling is skipped when the reward
/// function cannot read the policy's texts (the reverse_digits rule with an hf policy): then Samples is 0.
/// </summary>
public static class PolicyEvaluation
{
    public static async Task<EvalResult> EvaluateAsync(
        ITrainerGrain trainer,
        PromptRef[] prompts,
        RunConfig config,
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
        var sampled = await trainer.EvaluateSamplesAsync(
            new SampleEvalRequest(
                prompts,
                config.Eval.SamplesPerPrompt,
                config.Eval.Temperature,
                config.Policy.MaxResponseLength,
                // The same draws every round: curves differ by the policy only.
                SeededRandom.Derive(config.Seed, "eval"),
                config.Reward
            )
        );
        return sampled with { Preference = preference };
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
