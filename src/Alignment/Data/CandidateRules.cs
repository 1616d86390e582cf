using System.Security.Cryptography;
using System.Text;

namespace AlignCluster.Alignment.Data;

/// <summary>
/// The documented rules that turn a parsed record into a <see cref="PromptCandidates"/>:
/// <list type="number">
/// <item>De-duplication: candidates with identical content (text, or roles + contents) are merged; the merged
/// candidate sits where the first copy was and keeps the best rating among the copies (first copy on a tie).</item>
/// <item>Chosen: the explicit one (TRL pairs), else the lowest rank, else the highest score; ties go to the
/// candidate listed first (deterministic; tied records are counted in the report).</item>
/// <item>Fewer than 2 distinct candidates: the prompt is skipped and counted (never silently).</item>
/// </list>
/// </summary>
internal static class CandidateRules
{
    public sealed record Outcome(PromptCandidates? Prompt, int DuplicatesRemoved, bool TiedTop);

    public static Outcome Apply(ParsedRecord record, string id)
    {
        var distinct = Deduplicate(record.Candidates, out int removed);
        if (distinct.Count < 2)
            return new Outcome(null, removed, false);
        int chosen = 0;
        bool tied = false;
        if (record.ChosenBy != ChosenBy.Explicit)
        {
            for (int i = 1; i < distinct.Count; i++)
                if (Compare(distinct[i], distinct[chosen], record.ChosenBy) > 0)
                    chosen = i; // strict: first listed wins ties
            tied = distinct.Where((c, i) => i != chosen && Compare(c, distinct[chosen], record.ChosenBy) == 0).Any();
        }
        return new Outcome(
            new PromptCandidates(id, record.Prompt, record.PromptMessages, distinct, chosen),
            removed,
            tied
        );
    }

    /// <summary>Positive when <paramref name="a"/> is better than <paramref name="b"/>.</summary>
    private static int Compare(Candidate a, Candidate b, ChosenBy by) =>
        by == ChosenBy.Rank ? b.Rank!.Value.CompareTo(a.Rank!.Value) : a.Score!.Value.CompareTo(b.Score!.Value);

    private static List<Candidate> Deduplicate(IReadOnlyList<Candidate> candidates, out int removed)
    {
        var position = new Dictionary<string, int>(StringComparer.Ordinal);
        var kept = new List<Candidate>();
        removed = 0;
        foreach (var candidate in candidates)
        {
            if (!position.TryGetValue(candidate.ContentKey, out int at))
            {
                position[candidate.ContentKey] = kept.Count;
                kept.Add(candidate);
                continue;
            }
            removed++;
            if ((candidate.Quality ?? double.NegativeInfinity) > (kept[at].Quality ?? double.NegativeInfinity))
                kept[at] = candidate;
        }
        return kept;
    }

    /// <summary>
    /// The id of a record without an explicit one: a hash of the prompt content, so it is stable when the file is
    /// re-ordered or re-split across shards.
    /// </summary>
    public static string DerivedId(ParsedRecord record)
    {
        string key = record.Prompt
            ?? string.Join('\u001e', record.PromptMessages!.Select(m => m.Role + '\u001f' + m.Content));
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];
    }
}
