using System.Text.Json;

namespace AlignCluster.Alignment.Data;

/// <summary>
/// Streams preference data from JSONL (one JSON object per line; blank lines ignored) into
/// <see cref="PromptCandidates"/>, validating as it goes. See docs/alignment.md for the layouts and rules.
/// Errors are <see cref="DataFormatException"/>s naming file:line and field.
/// </summary>
public static class PreferenceReader
{
    /// <summary>Reads a file lazily; the <paramref name="report"/> is complete when enumeration ends.</summary>
    public static IEnumerable<PromptCandidates> ReadFile(
        string path,
        ReadReport report,
        PreferenceFormat format = PreferenceFormat.Auto
    )
    {
        using var stream = new FileStream(
            path,
            FileMode.Open,
            FileAccess.Read,
            FileShare.Read,
            1 << 16,
            FileOptions.SequentialScan
        );
        foreach (var prompt in Read(stream, path, report, format))
            yield return prompt;
    }

    /// <summary>Reads a whole file into memory; returns the prompts and the report.</summary>
    public static (List<PromptCandidates> Prompts, ReadReport Report) ReadAll(
        string path,
        PreferenceFormat format = PreferenceFormat.Auto
    )
    {
        var report = new ReadReport();
        var prompts = ReadFile(path, report, format).ToList();
        return (prompts, report);
    }

    /// <summary>Reads a stream lazily. <paramref name="fileName"/> is used in error messages only.</summary>
    public static IEnumerable<PromptCandidates> Read(
        Stream stream,
        string fileName,
        ReadReport report,
        PreferenceFormat format = PreferenceFormat.Auto
    )
    {
        report.File = fileName;
        var seenIds = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (line, bytes) in JsonlLines.Read(stream))
        {
            if (JsonlLines.IsBlank(bytes))
                continue;
            var fields = new RecordFields(fileName, line);
            var record = ParseLine(bytes, fields, format);
            report.Records++;
            string id = record.ExplicitId ?? CandidateRules.DerivedId(record);
            if (seenIds.TryGetValue(id, out int firstLine))
                throw fields.Error(
                    DataErrorKind.DuplicatePromptId,
                    record.ExplicitId is null ? "prompt" : "id",
                    $"prompt id '{id}' already used on line {firstLine}"
                        + (
                            record.ExplicitId is null
                                ? " (ids are derived from the prompt text when absent: the prompt repeats; give "
                                    + "each record an 'id')"
                                : ""
                        )
                );
            seenIds[id] = line;

            var outcome = CandidateRules.Apply(record, id);
            report.DuplicateCandidatesRemoved += outcome.DuplicatesRemoved;
            if (outcome.TiedTop)
                report.TiedTopChoices++;
            if (outcome.Prompt is null)
            {
                report.Skip(line);
                continue;
            }
            report.Prompts++;
            yield return outcome.Prompt;
        }
        if (report.Records == 0)
            throw new DataFormatException(DataErrorKind.EmptyFile, fileName, 0, null, "the file holds no records");
    }

    private static ParsedRecord ParseLine(byte[] bytes, RecordFields fields, PreferenceFormat format)
    {
        if (!JsonlLines.IsValidUtf8(bytes))
            throw fields.Error(
                DataErrorKind.BadUtf8,
                null,
                $"invalid UTF-8 at byte {JsonlLines.FirstInvalidUtf8Offset(bytes) + 1} of the line"
            );
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(JsonlLines.QuoteNonFiniteLiterals(bytes));
        }
        catch (JsonException e)
        {
            throw fields.Error(
                DataErrorKind.MalformedJson,
                null,
                $"malformed JSON at byte {e.BytePositionInLine + 1}: {FirstSentence(e.Message)}"
            );
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw fields.Error(
                    DataErrorKind.MalformedJson,
                    null,
                    $"expected a JSON object per line, got {RecordFields.Describe(document.RootElement)}"
                );
            return PreferenceFormats.Parse(document.RootElement, format, fields);
        }
    }

    private static string FirstSentence(string message)
    {
        // System.Text.Json appends " Path: … | LineNumber: … | BytePositionInLine: …" (its LineNumber counts within the
        // one line we parsed, so it is always 0): the caller already names the file, line and byte.
        foreach (var tail in new[] { " Path:", " LineNumber:" })
        {
            int cut = message.IndexOf(tail, StringComparison.Ordinal);
            if (cut > 0)
                message = message[..cut];
        }
        return message;
    }
}
