namespace AlignCluster.Alignment.Data;

/// <summary>
/// What a read did besides yielding prompts: counts of records, skips, merged duplicates and tied choices.
/// Filled while the stream is consumed; complete once enumeration ends.
/// </summary>
public sealed class ReadReport
{
    /// <summary>How many skipped lines are remembered for the summary.</summary>
    public const int MaxListedSkips = 20;

    public string File { get; internal set; } = "";

    /// <summary>Non-blank lines parsed as records.</summary>
    public int Records { get; internal set; }

    /// <summary>Prompts handed to the caller.</summary>
    public int Prompts { get; internal set; }

    /// <summary>Prompts dropped because fewer than 2 distinct candidates remained after de-duplication.</summary>
    public int SkippedTooFewCandidates { get; internal set; }

    /// <summary>Line numbers of the first <see cref="MaxListedSkips"/> skipped records.</summary>
    public List<int> SkippedLines { get; } = [];

    /// <summary>Identical candidates merged into one, over all prompts.</summary>
    public int DuplicateCandidatesRemoved { get; internal set; }

    /// <summary>Prompts whose best rank/score was shared by several candidates (first listed became chosen).</summary>
    public int TiedTopChoices { get; internal set; }

    internal void Skip(int line)
    {
        SkippedTooFewCandidates++;
        if (SkippedLines.Count < MaxListedSkips)
            SkippedLines.Add(line);
    }

    /// <summary>One human-readable line for logs and the CLI.</summary>
    public override string ToString()
    {
        var text =
            $"{File}: {Records} records, {Prompts} prompts, {SkippedTooFewCandidates} skipped (< 2 distinct candidates)"
            + $", {DuplicateCandidatesRemoved} duplicate candidates merged, {TiedTopChoices} tied top choices";
        if (SkippedLines.Count > 0)
            text +=
                "; skipped lines: "
                + $"{string.Join(", ", SkippedLines)}{(SkippedTooFewCandidates > SkippedLines.Count ? ", ..." : "")}";
        return text;
    }
}
