using AlignCluster.Contracts;

namespace AlignCluster.Grains.PromptShard;

/// <summary>The prompt shard's logic over its <see cref="ShardState"/>; the grain persists the state after each
/// change.</summary>
public sealed class ShardService(ShardState state)
{
    public ShardState State { get; } = state;

    public void Load(ShardSlice slice)
    {
        State.RunId = slice.RunId;
        State.Groups = [.. slice.Groups];
        State.LastNegatives = [];
        State.PreviousNegatives = [];
        State.LastEntropies = [];
        State.LastRound = -1;
        State.ChangeRates = [];
    }

    public PromptGroup[] TrainingItems() => [.. State.Groups];

    /// <summary>Groups restricted to candidates without a cached reference log-prob (empty groups omitted).</summary>
    public PromptGroup[] Unscored() =>
        State
            .Groups.Select(g => g with { Candidates = g.Candidates.Where(c => c.ReferenceLogProb is null).ToArray() })
            .Where(g => g.Candidates.Length > 0)
            .ToArray();

    /// <summary>Caches reference log-probs; <paramref name="scores"/> follow the candidate order of <see
    /// cref="Unscored"/>.</summary>
    public void CacheReference(GroupScores[] scores)
    {
        var byPrompt = scores.ToDictionary(s => s.PromptId);
        for (int i = 0; i < State.Groups.Count; i++)
        {
            var g = State.Groups[i];
            if (!byPrompt.TryGetValue(g.PromptId, out var s))
                continue;
            int k = 0;
            var candidates = g
                .Candidates.Select(c => c.ReferenceLogProb is null ? c with { ReferenceLogProb = s.LogProbs[k++] } : c)
                .ToArray();
            if (k != s.LogProbs.Length)
                throw new ArgumentException(
                    $"prompt {g.PromptId}: {s.LogProbs.Length} reference scores for {k} unscored candidates"
                );
            State.Groups[i] = g with { Candidates = candidates };
        }
    }

    /// <summary>Stores a round's selections and the fraction of prompts whose negatives changed since the round
    /// before.</summary>
    public void Record(int round, SelectionRecord[] selections)
    {
        if (round != State.LastRound)
        {
            State.PreviousNegatives = State.LastNegatives;
            State.LastNegatives = [];
            State.LastEntropies = [];
            State.LastRound = round;
        }
        foreach (var s in selections)
        {
            State.LastNegatives[s.PromptId] = s.NegativeIds;
            State.LastEntropies[s.PromptId] = s.KernelEntropy;
        }
        int compared = 0,
            changed = 0;
        foreach (var (prompt, negatives) in State.LastNegatives)
        {
            if (!State.PreviousNegatives.TryGetValue(prompt, out var before))
                continue;
            compared++;
            if (!before.Order().SequenceEqual(negatives.Order()))
                changed++;
        }
        double rate = compared == 0 ? 0 : (double)changed / compared;
        while (State.ChangeRates.Count <= round)
            State.ChangeRates.Add(0);
        State.ChangeRates[round] = rate;
    }

    /// <summary>
    /// Merges rated new candidates into their prompts: identical token sequences are dropped, then a prompt keeps at
    /// most <paramref name="cap"/> candidates (the lowest-rated non-chosen ones go first; the chosen is re-picked as
    /// the top rating).
    /// </summary>
    public MergeReport Merge(int round, Candidate[][] candidatesPerPrompt, string[] promptIds, int cap)
    {
        int added = 0,
            duplicates = 0,
            dropped = 0;
        var index = State.Groups.Select((g, i) => (g.PromptId, i)).ToDictionary(p => p.PromptId, p => p.i);
        for (int p = 0; p < promptIds.Length; p++)
        {
            if (!index.TryGetValue(promptIds[p], out int gi))
                continue;
            var g = State.Groups[gi];
            var list = g.Candidates.ToList();
            var seen = list.Select(c => string.Join(',', c.TokenIds)).ToHashSet();
            foreach (var c in candidatesPerPrompt[p])
            {
                if (!seen.Add(string.Join(',', c.TokenIds)))
                {
                    duplicates++;
                    continue;
                }
                list.Add(c);
                added++;
            }
            var chosen = list.Select((c, i) => (c, i)).OrderByDescending(t => t.c.Rating).ThenBy(t => t.i).First().c;
            while (list.Count > cap)
            {
                var victim = list.Where(c => !ReferenceEquals(c, chosen))
                    .OrderBy(c => c.Rating)
                    .ThenByDescending(c => list.IndexOf(c))
                    .First();
                list.Remove(victim);
                dropped++;
            }
            State.Groups[gi] = g with { Candidates = [.. list], ChosenIndex = list.IndexOf(chosen) };
        }
        return new MergeReport(added, duplicates, dropped);
    }

    public ShardReport Report(string key) =>
        new(
            key,
            State.Groups.Count,
            State.Groups.Sum(g => g.Candidates.Length),
            State.Groups.Sum(g => g.Candidates.Count(c => c.ReferenceLogProb is null)),
            State.LastRound,
            State.LastRound >= 0 && State.LastRound < State.ChangeRates.Count ? State.ChangeRates[State.LastRound] : 0,
            State.LastEntropies.Count,
            State.LastEntropies.Count == 0 ? 0 : State.LastEntropies.Values.Average(),
            State.Groups.Sum(g => (long)g.PromptTokenIds.Length + g.Candidates.Sum(c => (long)c.TokenIds.Length))
        );
}
