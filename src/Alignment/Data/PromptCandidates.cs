using System.Text.Json.Serialization;

namespace AlignCluster.Alignment.Data;

/// <summary>One chat message of a conversational prompt or response (TRL's conversational format).</summary>
public sealed record ChatMessage(string Role, string Content);

/// <summary>
/// One candidate response. Exactly one of <see cref="Text"/> / <see cref="Messages"/> is set.
/// <see cref="Score"/> is "higher is better" (UltraFeedback-like ratings); <see cref="Rank"/> is
/// "lower is better" (Nectar: 1 = best). Either may be absent.
/// </summary>
public sealed record Candidate(
    string? Text,
    IReadOnlyList<ChatMessage>? Messages = null,
    double? Score = null,
    int? Rank = null
)
{
    /// <summary>A candidate given as plain text.</summary>
    public static Candidate FromText(string text, double? score = null, int? rank = null) =>
        new(text, null, score, rank);

    /// <summary>
    /// A "higher is better" number for ordering candidates: the score when present, else the negated rank,
    /// else null. Used by the worst_rated selector and by de-duplication.
    /// </summary>
    [JsonIgnore]
    public double? Quality => Score ?? (Rank is int r ? -r : null);

    /// <summary>Identity of the content, used to de-duplicate identical candidates (roles are part of it).</summary>
    [JsonIgnore]
    public string ContentKey => Text ?? string.Join('\u001e', Messages!.Select(m => m.Role + '\u001f' + m.Content));
}

/// <summary>
/// A prompt with its candidate set: the unit a prompt-shard grain owns. <see cref="ChosenIndex"/> points at the
/// preferred candidate (rank 1 / top score; see docs/alignment.md for the rules); every other candidate is a
/// possible rejected response. Exactly one of <see cref="Prompt"/> / <see cref="PromptMessages"/> is set.
/// </summary>
public sealed record PromptCandidates(
    string Id,
    string? Prompt,
    IReadOnlyList<ChatMessage>? PromptMessages,
    IReadOnlyList<Candidate> Candidates,
    int ChosenIndex
)
{
    /// <summary>The chosen (preferred) candidate.</summary>
    [JsonIgnore]
    public Candidate Chosen => Candidates[ChosenIndex];

    /// <summary>Indices of every candidate except the chosen, in order.</summary>
    [JsonIgnore]
    public IEnumerable<int> RejectedIndices => Enumerable.Range(0, Candidates.Count).Where(i => i != ChosenIndex);
}
