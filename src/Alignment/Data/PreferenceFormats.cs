using System.Text.Json;

namespace AlignCluster.Alignment.Data;

/// <summary>The JSONL layouts the reader understands. <see cref="Auto"/> recognises each record by its
/// fields.</summary>
public enum PreferenceFormat
{
    Auto,

    /// <summary>TRL pairs <c>{prompt, chosen, rejected}</c>; strings or conversational message lists.</summary>
    TrlPairs,

    /// <summary>Nectar-like <c>{prompt, answers:[{answer, rank}]}</c>; rank 1 is best.</summary>
    RankedAnswers,

    /// <summary>UltraFeedback-like <c>{prompt, completions:[{response, score}]}</c>; higher score is better.</summary>
    RatedCompletions,

    /// <summary>Generic <c>{prompt, candidates:[{text, score|rank}]}</c>.</summary>
    GenericCandidates,
}

/// <summary>How the chosen candidate of a parsed record is decided.</summary>
internal enum ChosenBy
{
    Explicit,
    Rank,
    Score,
}

/// <summary>A record as written in the file, before de-duplication and the choice of the chosen candidate.</summary>
internal sealed record ParsedRecord(
    string? ExplicitId,
    string? Prompt,
    IReadOnlyList<ChatMessage>? PromptMessages,
    IReadOnlyList<Candidate> Candidates,
    ChosenBy ChosenBy
);

/// <summary>Parses one JSON object in each of the supported layouts.</summary>
internal static class PreferenceFormats
{
    public static PreferenceFormat Detect(JsonElement record, RecordFields fields)
    {
        if (record.TryGetProperty("chosen", out _) || record.TryGetProperty("rejected", out _))
            return PreferenceFormat.TrlPairs;
        if (record.TryGetProperty("answers", out _))
            return PreferenceFormat.RankedAnswers;
        if (record.TryGetProperty("completions", out _))
            return PreferenceFormat.RatedCompletions;
        if (record.TryGetProperty("candidates", out _))
            return PreferenceFormat.GenericCandidates;
        throw fields.Error(
            DataErrorKind.MissingField,
            null,
            "record matches no known format: expected 'chosen'+'rejected', 'answers', 'completions' or 'candidates'"
        );
    }

    public static ParsedRecord Parse(JsonElement record, PreferenceFormat format, RecordFields fields) =>
        format switch
        {
            PreferenceFormat.TrlPairs => ParseTrlPair(record, fields),
            PreferenceFormat.RankedAnswers => ParseList(record, fields, "answers", "answer", ChosenBy.Rank),
            PreferenceFormat.RatedCompletions => ParseList(record, fields, "completions", "response", ChosenBy.Score),
            PreferenceFormat.GenericCandidates => ParseList(record, fields, "candidates", "text", null),
            _ => Parse(record, Detect(record, fields), fields),
        };

    private static string? ReadId(JsonElement record, RecordFields fields)
    {
        foreach (var name in new[] { "id", "prompt_id" })
        {
            if (!fields.Has(record, name))
                continue;
            var value = record.GetProperty(name);
            return value.ValueKind switch
            {
                JsonValueKind.String => value.GetString()!,
                JsonValueKind.Number => value.GetRawText(),
                _ => throw fields.Error(
                    DataErrorKind.WrongType,
                    name,
                    $"expected a string or a number, got {RecordFields.Describe(value)}"
                ),
            };
        }
        return null;
    }

    private static ParsedRecord ParseTrlPair(JsonElement record, RecordFields fields)
    {
        var chosen = fields.TextOrMessages(fields.Required(record, "chosen"), "chosen");
        var rejected = fields.TextOrMessages(fields.Required(record, "rejected"), "rejected");
        string? promptText;
        IReadOnlyList<ChatMessage>? promptMessages;
        if (fields.Has(record, "prompt"))
            (promptText, promptMessages) = fields.TextOrMessages(record.GetProperty("prompt"), "prompt");
        else if (chosen.Messages is not null && rejected.Messages is not null)
        {
            // TRL's "implicit prompt" layout: both conversations start with the same turns, which are the prompt.
            int shared = SharedPrefixLength(chosen.Messages, rejected.Messages);
            if (shared == 0 || shared == chosen.Messages.Count || shared == rejected.Messages.Count)
                throw fields.Error(
                    DataErrorKind.MissingField,
                    "prompt",
                    "required field is missing and the conversations share no prompt turns (implicit-prompt layout)"
                );
            promptText = null;
            promptMessages = chosen.Messages.Take(shared).ToList();
            chosen = (null, chosen.Messages.Skip(shared).ToList());
            rejected = (null, rejected.Messages.Skip(shared).ToList());
        }
        else
            throw fields.Error(DataErrorKind.MissingField, "prompt", "required field is missing");

        var candidates = new List<Candidate>
        {
            new(chosen.Text, chosen.Messages, Rank: 1),
            new(rejected.Text, rejected.Messages, Rank: 2),
        };
        return new ParsedRecord(ReadId(record, fields), promptText, promptMessages, candidates, ChosenBy.Explicit);
    }

    private static int SharedPrefixLength(IReadOnlyList<ChatMessage> a, IReadOnlyList<ChatMessage> b)
    {
        int n = 0;
        while (n < a.Count && n < b.Count && a[n] == b[n])
            n++;
        return n;
    }

    /// <param name="chosenBy">Rank or Score for the fixed layouts; null (generic) decides per record.</param>
    private static ParsedRecord ParseList(
        JsonElement record,
        RecordFields fields,
        string listName,
        string textName,
        ChosenBy? chosenBy
    )
    {
        var (promptText, promptMessages) = fields.TextOrMessages(fields.Required(record, "prompt"), "prompt");
        var list = fields.RequiredArray(record, listName);
        var candidates = new List<Candidate>();
        int i = 0;
        foreach (var item in list.EnumerateArray())
        {
            string path = $"{listName}[{i++}]";
            var entry = fields.AsObject(item, path);
            var (text, messages) = fields.TextOrMessages(
                fields.Required(entry, textName, path),
                RecordFields.Join(path, textName)
            );
            candidates.Add(
                new Candidate(
                    text,
                    messages,
                    fields.OptionalFiniteNumber(entry, "score", path),
                    fields.OptionalInteger(entry, "rank", path)
                )
            );
        }
        var by = chosenBy
            ?? (candidates.Count > 0 && candidates.All(c => c.Rank is not null) ? ChosenBy.Rank : ChosenBy.Score);
        for (int k = 0; k < candidates.Count; k++)
        {
            bool has = by == ChosenBy.Rank ? candidates[k].Rank is not null : candidates[k].Score is not null;
            if (has)
                continue;
            string what =
                chosenBy is null ? "'score' or 'rank' (all candidates of a prompt use the same one)"
                : by == ChosenBy.Rank ? "'rank'"
                : "'score'";
            string field = $"{listName}[{k}]." + (by == ChosenBy.Rank ? "rank" : "score");
            throw fields.Error(DataErrorKind.MissingField, field, $"every candidate needs {what}");
        }
        return new ParsedRecord(ReadId(record, fields), promptText, promptMessages, candidates, by);
    }
}
