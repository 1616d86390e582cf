using AlignCluster.Alignment.Evaluation;
using AlignCluster.Contracts;
using AlignCluster.Grains.Demo;

namespace AlignCluster.Grains.Training;

/// <summary>
/// The trainer's side of generation: sample with the policy it holds, rate with the run's reward function, and hand
/// the rated candidates straight to the shards. Only counts and metrics go back to the caller, so sampled token ids
/// never reach the coordinator (docs/cluster.md, "Data flow"). Each flow keeps the seeds, the order of the draws and
/// the batches handed to the reward function that the coordinator used when it ran them, so a run samples and rates
/// exactly as before.
/// </summary>
/// <param name="generate">Samples on the trainer's device (<see cref="TrainerService.Generate"/>, off the grain's
/// scheduler).</param>
/// <param name="reward">Rates (prompt, response) token ids (<see cref="RewardFunctions.Create"/>).</param>
/// <param name="shard">The prompt shard grain of a key.</param>
public sealed class CandidateGeneration(
    Func<GenerateRequest, Task<GeneratedResponse[]>> generate,
    IRewardFunction reward,
    Func<string, IPromptShardGrain> shard
)
{
    /// <summary>Initial candidate sets: sampled (or given), rated, noise-injected, filtered, loaded into the
    /// shards.</summary>
    public async Task<CandidateReport> PrepareAsync(CandidateRequest request, CancellationToken ct = default)
    {
        List<PromptGroup> built;
        if (request.Given is { } given)
            built = [.. given];
        else
        {
            var samples = new List<GeneratedResponse>();
            for (int t = 0; t < request.Temperatures.Length; t++)
                samples.AddRange(
                    await generate(
                        new GenerateRequest(
                            request.Prompts,
                            request.PerTemperature,
                            request.Temperatures[t],
                            request.MaxNewTokens,
                            request.Seeds[t]
                        )
                    )
                );
            // One call for every temperature's samples: a reward model batches them as the coordinator did.
            built = CandidateSets.Build(request.Prompts, samples, await RateAsync(samples, request.Prompts, ct));
        }
        if (request.NoiseSeed is { } noiseSeed)
        {
            var corruptions = CandidateSets.Corruptions(built, noiseSeed, ToyVocabulary.Eos);
            var toRate = built
                .Select((g, i) => (g.PromptTokenIds, ids: corruptions[i]))
                .Where(t => t.ids is not null)
                .Select(t => (t.PromptTokenIds, t.ids!))
                .ToList();
            built = CandidateSets.AddCorruptions(built, corruptions, await reward.RateAsync(toRate, ct));
        }
        var (groups, untrainable) = CandidateSets.Trainable(built);
        if (groups.Length > 0)
            await Task.WhenAll(
                request.Shards.Select(
                    (key, i) =>
                        shard(key)
                            .LoadSliceAsync(
                                new ShardSlice(
                                    request.RunId,
                                    [.. groups.Where(g => ShardKeys.IndexOf(g.PromptId, request.Shards.Length) == i)]
                                )
                            )
                )
            );
        return new CandidateReport(built.Count, untrainable, groups.Length, groups.Sum(g => g.Candidates.Length));
    }

    /// <summary>
    /// An online round: shard by shard, the shard's prompts are sampled with the round's seed, rated in one batch and
    /// merged into that shard as candidates "g{round}-{j}" (j counts a prompt's samples).
    /// </summary>
    public async Task<MergeReport> GenerateOnlineAsync(OnlineRequest request, CancellationToken ct = default)
    {
        var total = new MergeReport(0, 0, 0);
        foreach (var owner in request.Shards.Select(shard))
        {
            var groups = await owner.GetTrainingItemsAsync(request.Round);
            if (groups.Length == 0)
                continue;
            var prompts = groups.Select(g => new PromptRef(g.PromptId, g.PromptTokenIds)).ToArray();
            var samples = await generate(
                new GenerateRequest(prompts, request.PerPrompt, request.Temperature, request.MaxNewTokens, request.Seed)
            );
            var ratings = await RateAsync(samples, prompts, ct);
            var perPrompt = prompts
                .Select(p =>
                    samples
                        .Select((s, k) => (s, k))
                        .Where(t => t.s.PromptId == p.PromptId)
                        .Select((t, j) => new Candidate($"g{request.Round}-{j}", t.s.TokenIds, ratings[t.k]))
                        .ToArray()
                )
                .ToArray();
            var merged = await owner.MergeCandidatesAsync(
                request.Round,
                perPrompt,
                [.. prompts.Select(p => p.PromptId)],
                request.Cap
            );
            total = new MergeReport(
                total.Added + merged.Added,
                total.Duplicates + merged.Duplicates,
                total.DroppedByCap + merged.DroppedByCap
            );
        }
        return total;
    }

    /// <summary>
    /// Samples from the policy and from the reference on the same prompts with the same seed, rates both and reports
    /// the policy's mean reward, the adjusted win-rate (wins + ties/2)/n of policy samples against the reference
    /// samples drawn with the same seed, and KL(π_θ‖π_ref) ≈ mean over policy samples of logp_θ(y) − logp_ref(y).
    /// </summary>
    public async Task<EvalResult> EvaluateSamplesAsync(SampleEvalRequest request, CancellationToken ct = default)
    {
        var sampling = new GenerateRequest(
            request.Prompts,
            request.PerPrompt,
            request.Temperature,
            request.MaxNewTokens,
            request.Seed
        );
        var policy = await generate(sampling);
        var reference = await generate(sampling with { FromReference = true });
        var policyRewards = await RateAsync(policy, request.Prompts, ct);
        var referenceRewards = await RateAsync(reference, request.Prompts, ct);
        var winRate = WinRate.From(policyRewards.Zip(referenceRewards, (p, r) => p > r ? Verdict.CandidateWins
                : p < r ? Verdict.BaselineWins
                : Verdict.Tie));
        double kl = RewardKlFrontier.EstimateKl(
            [.. policy.Select(s => s.PolicyLogProb)],
            [.. policy.Select(s => s.ReferenceLogProb)]
        );
        return new EvalResult(
            policyRewards.Average(),
            referenceRewards.Average(),
            winRate.Adjusted,
            kl,
            policyRewards.Length
        );
    }

    /// <summary>Rates samples as (prompt ids, response ids) pairs, in sample order, in one call.</summary>
    private Task<double[]> RateAsync(IEnumerable<GeneratedResponse> samples, PromptRef[] prompts, CancellationToken ct)
    {
        var byId = prompts.ToDictionary(p => p.PromptId, p => p.PromptTokenIds);
        return reward.RateAsync([.. samples.Select(s => (byId[s.PromptId], s.TokenIds))], ct);
    }
}
