using AlignCluster.Contracts;
using AlignCluster.Grains.Policy;

namespace AlignCluster.Grains.Demo;

/// <summary>The synthetic task's prompts for a run: training prompts with imperfect demonstrations, and held-out
/// prompts.</summary>
public sealed record TaskData(PromptRef[] TrainPrompts, PromptGroup[] Demonstrations, PromptRef[] EvalPrompts)
{
    /// <summary>The prompts of a run's data source (the synthetic task or a preference file), deterministic for the
    /// config.</summary>
    public static TaskData For(RunConfig config) =>
        config.Data.Source == "file" ? FileData.Load(config).Data : Create(config.Data, config.Seed);

    /// <summary>As <see cref="For(RunConfig)"/> for the default (toy-vocabulary) policy.</summary>
    public static TaskData For(DataConfig data, ulong seed) => For(new RunConfig { Data = data, Seed = seed });

    /// <summary>Deterministic for (config, seed): the held-out prompts never overlap the training prompts.</summary>
    public static TaskData Create(DataConfig data, ulong seed)
    {
        var task = new ReverseDigitsTask(data.MinLength, data.MaxLength);
        var train = task.SamplePrompts(data.TrainPrompts, SeededRandom.Derive(seed, "train-prompts"));
        var eval = task.SamplePrompts(data.EvalPrompts, SeededRandom.Derive(seed, "eval-prompts"), train.ToHashSet());
        var noise = new SeededRandom(SeededRandom.Derive(seed, "demonstrations"));
        var demos = train
            .Select(
                (p, i) =>
                    new PromptGroup(
                        $"p{i}",
                        ToyVocabulary.Encode(p),
                        [
                            new Candidate(
                                "demo",
                                ToyVocabulary.EncodeResponse(
                                    ReverseDigitsTask.Demonstrate(p, data.DemonstrationNoise, noise)
                                ),
                                Rating: 0
                            ),
                        ],
                        0
                    )
            )
            .ToArray();
        return new TaskData(
            train.Select((p, i) => new PromptRef($"p{i}", ToyVocabulary.Encode(p))).ToArray(),
            demos,
            eval.Select((p, i) => new PromptRef($"e{i}", ToyVocabulary.Encode(p))).ToArray()
        );
    }
}

/// <summary>
/// Candidate sets from sampled, rated responses. Rules: identical token sequences are merged (the first kept); the
/// chosen is the top rating (ties → the earliest sample); a prompt needs at least one candidate rated strictly below
/// the
/// chosen, otherwise it is skipped and counted. With noise injection (MC-PO Table 2) a corrupted copy of the chosen —
/// two different tokens swapped — joins the set, rated by the reward function like any other.
/// </summary>
public static class CandidateSets
{
    /// <summary>Groups of distinct candidates with the chosen marked; prompts without samples are left out.</summary>
    public static List<PromptGroup> Build(
        PromptRef[] prompts,
        IReadOnlyList<GeneratedResponse> samples,
        IReadOnlyList<double> ratings
    )
    {
        var byPrompt = samples
            .Select((s, i) => (s, rating: ratings[i]))
            .GroupBy(t => t.s.PromptId)
            .ToDictionary(g => g.Key, g => g.ToList());
        var groups = new List<PromptGroup>();
        foreach (var prompt in prompts)
        {
            var candidates = new List<Candidate>();
            var seen = new HashSet<string>();
            foreach (var (s, rating) in byPrompt.GetValueOrDefault(prompt.PromptId) ?? [])
                if (seen.Add(Key(s.TokenIds)))
                    candidates.Add(new Candidate($"c{candidates.Count}", s.TokenIds, rating));
            if (candidates.Count > 0)
                groups.Add(
                    new PromptGroup(prompt.PromptId, prompt.PromptTokenIds, [.. candidates], ChosenOf(candidates))
                );
        }
        return groups;
    }

    /// <summary>MC-PO Table 2: the corrupted copy of each group's chosen (null where it cannot be made or already
    /// exists).</summary>
    public static int[]?[] Corruptions(IReadOnlyList<PromptGroup> groups, ulong seed, int endToken) =>
        groups
            .Select(g =>
            {
                var ids = SwapTwoTokens(
                    g.Candidates[g.ChosenIndex].TokenIds,
                    endToken,
                    new SeededRandom(SeededRandom.Derive(seed, "corrupt", g.PromptId))
                );
                return ids is null || g.Candidates.Any(c => Key(c.TokenIds) == Key(ids)) ? null : ids;
            })
            .ToArray();

    /// <summary>Adds the rated corrupted copies as candidates "corrupted" (the chosen stays the top rating).</summary>
    public static List<PromptGroup> AddCorruptions(
        IReadOnlyList<PromptGroup> groups,
        int[]?[] corruptions,
        IReadOnlyList<double> ratings
    )
    {
        int k = 0;
        return groups
            .Select(
                (g, i) =>
                {
                    if (corruptions[i] is not { } ids)
                        return g;
                    var candidates = g.Candidates.Append(new Candidate("corrupted", ids, ratings[k++])).ToList();
                    return g with { Candidates = [.. candidates], ChosenIndex = ChosenOf(candidates) };
                }
            )
            .ToList();
    }

    /// <summary>Keeps groups with at least one candidate rated below the chosen; returns them and how many were
    /// skipped.</summary>
    public static (PromptGroup[] Groups, int Skipped) Trainable(IReadOnlyList<PromptGroup> groups)
    {
        var kept = groups.Where(g => Training.GroupSelection.Eligible(g).Length > 0).ToArray();
        return (kept, groups.Count - kept.Length);
    }

    private static int ChosenOf(List<Candidate> candidates) =>
        candidates.Select((c, i) => (c, i)).OrderByDescending(t => t.c.Rating).ThenBy(t => t.i).First().i;

    private static string Key(int[] ids) => string.Join(',', ids);

    /// <summary>The response with two different tokens (before the end token) swapped; null when all are
    /// equal.</summary>
    public static int[]? SwapTwoTokens(int[] response, int endToken, SeededRandom random)
    {
        int n = Array.IndexOf(response, endToken) is var e and >= 0 ? e : response.Length;
        var pairs = new List<(int, int)>();
        for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (response[i] != response[j])
                pairs.Add((i, j));
        if (pairs.Count == 0)
            return null;
        var (a, b) = pairs[random.Next(pairs.Count)];
        var copy = (int[])response.Clone();
        (copy[a], copy[b]) = (copy[b], copy[a]);
        return copy;
    }
}
