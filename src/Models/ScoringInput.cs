using System.Text.Json;
using System.Text.Json.Nodes;
using AlignCluster.Models.Tokenization;

namespace AlignCluster.Models;

/// <summary>One row of a log-prob input file: the prompt (plain text or a conversation) and the response
/// text.</summary>
public sealed record PromptResponse(string? PromptText, IReadOnlyList<ChatMessage>? PromptMessages, string Response);

/// <summary>
/// The JSONL format of <c>aligncluster logprobs</c>: one object per line, either
/// <c>{"prompt": "...", "response": "..."}</c> or conversational
/// <c>{"prompt": [{"role": "user", "content": "..."}], "response": [{"role": "assistant", "content": "..."}]}</c>
/// (a response may also be a plain string), or <c>{"messages": [...]}</c> whose last message is the assistant's
/// response.
/// Output: one line per row, <c>{"sum": S, "mean": M, "tokens": N}</c>.
/// </summary>
public static class ScoringInput
{
    /// <summary>Parses one line; errors name the file and line.</summary>
    public static PromptResponse ParseLine(string line, string file, int lineNumber)
    {
        FormatException Bad(string problem) => new($"{file}:{lineNumber}: {problem}");
        JsonObject row;
        try
        {
            row = JsonNode.Parse(line) as JsonObject ?? throw Bad("each line must be a JSON object");
        }
        catch (JsonException e)
        {
            throw Bad($"not valid JSON ({e.Message})");
        }

        if (row["messages"] is JsonArray all)
        {
            var messages = Messages(all, "messages", Bad);
            if (messages.Count < 2 || messages[^1].Role != "assistant")
                throw Bad(
                    "'messages' must end with an assistant message (the response) after at least one prompt message"
                );
            return new PromptResponse(null, messages[..^1], messages[^1].Content);
        }
        var response = row["response"] switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            JsonArray a => Messages(a, "response", Bad) is [.., var last]
                ? last.Content
                : throw Bad("'response' has no messages"),
            null => throw Bad("missing field 'response'"),
            _ => throw Bad("'response' must be a string or a list of messages"),
        };
        return row["prompt"] switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) => new PromptResponse(s, null, response),
            JsonArray a => new PromptResponse(null, Messages(a, "prompt", Bad), response),
            null => throw Bad("missing field 'prompt'"),
            _ => throw Bad("'prompt' must be a string or a list of messages"),
        };
    }

    private static List<ChatMessage> Messages(JsonArray array, string field, Func<string, FormatException> bad) =>
        array
            .Select(
                (m, i) =>
                    m is JsonObject o
                    && o["role"]?.GetValueKind() == JsonValueKind.String
                    && o["content"]?.GetValueKind() == JsonValueKind.String
                        ? new ChatMessage(o["role"]!.GetValue<string>(), o["content"]!.GetValue<string>())
                        : throw bad($"{field}[{i}] must be {{\"role\": string, \"content\": string}}")
            )
            .ToList();

    /// <summary>
    /// Scores every line of <paramref name="input"/> (streaming, <paramref name="batchSize"/> rows at a time) and
    /// writes
    /// one JSON result line per row, in order. Returns the number of rows.
    /// </summary>
    public static int ScoreJsonl(
        LanguageModel model,
        TextReader input,
        TextWriter output,
        string file,
        int batchSize = 8
    ) => ScoreLines(model, Lines(input), output, file, batchSize);

    /// <summary>
    /// As <see cref="ScoreJsonl"/> over lines already split and decoded (numbered from 1), e.g. by a reader that
    /// refuses invalid UTF-8. A row longer than the model's positions is refused naming its line, before the model
    /// sees it.
    /// </summary>
    public static int ScoreLines(
        LanguageModel model,
        IEnumerable<(int Number, string Text)> lines,
        TextWriter output,
        string file,
        int batchSize = 8
    )
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var batch = new List<ScoringRow>(batchSize);
        int count = 0;
        void Flush()
        {
            foreach (var score in SequenceScoring.Score(model.Network, batch, model.PadId, batchSize))
                output.WriteLine(
                    JsonSerializer.Serialize(
                        new
                        {
                            sum = score.Sum,
                            mean = score.Mean,
                            tokens = score.Tokens,
                        }
                    )
                );
            count += batch.Count;
            batch.Clear();
        }
        foreach (var (lineNumber, line) in lines)
        {
            if (string.IsNullOrWhiteSpace(line))
                continue;
            var row = ParseLine(line, file, lineNumber);
            var prompt = row.PromptMessages is { } messages
                ? model.EncodePrompt(messages)
                : model.EncodePrompt(row.PromptText!);
            var response = model.EncodeResponse(row.Response);
            if (prompt.Count + response.Count > model.Config.MaxPositions)
                throw new FormatException(
                    $"{file}:{lineNumber}: prompt ({prompt.Count}) + response "
                        + $"({response.Count}) tokens exceed the model's {model.Config.MaxPositions} positions "
                        + "(config.json); "
                        + "shorten the row"
                );
            batch.Add(new ScoringRow(prompt, response));
            if (batch.Count == batchSize)
                Flush();
        }
        if (batch.Count > 0)
            Flush();
        return count;
    }

    private static IEnumerable<(int Number, string Text)> Lines(TextReader input)
    {
        int number = 0;
        while (input.ReadLine() is { } line)
            yield return (++number, line);
    }
}
