using AlignCluster.Alignment.Data;
using AlignCluster.Contracts;
using AlignCluster.Grains.Policy;

namespace AlignCluster.Grains.Demo;

/// <summary>
/// Preference data from a JSONL file (any format the alignment readers accept: TRL pairs, Nectar ranks,
/// UltraFeedback-like scores, generic candidates; their rules pick the chosen, merge duplicates and skip prompts with
/// fewer than two candidates). Texts are encoded with the policy's tokenizer: for <c>policy.kind: hf</c> the model
/// directory's tokenizer and chat template (<see cref="ModelTextCodec"/>), otherwise the toy vocabulary (digits only).
/// A rating is the candidate's score, or −rank, or (no rating given) 1 for the chosen and 0 for the others.
/// <c>data.eval_prompts</c> prompts (a seeded draw) are held out for evaluation and never trained on.
/// </summary>
public static class FileData
{
    /// <summary>The file's prompts for training (<c>Train</c>) and held out (<c>Held</c>, with their candidates for
    /// preference accuracy).</summary>
    public sealed record Loaded(TaskData Data, PromptGroup[] Train, PromptGroup[] Held, ReadReport Report);

    /// <summary>Reads, encodes and validates the whole file; errors name file:line and field, or the prompt and the
    /// limit.</summary>
    public static Loaded Load(RunConfig config)
    {
        var data = config.Data;
        string path = data.Path ?? throw new ArgumentException("data.path: required when data.source is file");
        var encoder =
            config.Policy.Kind == "hf"
                ? new HfEncoder(
                    ModelTextCodec.Load(
                        config.Policy.Path ?? throw new ArgumentException("policy.path: required for policy.kind hf")
                    ),
                    data.MaxPromptTokens,
                    config.Policy.MaxResponseLength,
                    data.Truncate
                )
                : (IEncoder)new ToyEncoder(data.MaxLength);
        var report = new ReadReport();
        var recordLines = RecordLines(path);
        var groups = new List<PromptGroup>();
        foreach (var record in PreferenceReader.ReadFile(path, report))
        {
            int line = recordLines[report.Records - 1]; // the reader has just counted this record
            int[] Encode(Func<int[]> encode, string? response = null)
            {
                try
                {
                    return encode();
                }
                catch (ArgumentException e)
                {
                    throw new DataFormatException(
                        DataErrorKind.InvalidValue,
                        path,
                        line,
                        $"prompt {record.Id}",
                        response is null ? e.Message : $"{response}: {e.Message}"
                    );
                }
            }
            var prompt = Encode(() => encoder.Prompt(record));
            var candidates = record
                .Candidates.Select(
                    (c, i) =>
                        new Contracts.Candidate(
                            $"c{i}",
                            Encode(
                                () => encoder.Response(c, prompt.Length),
                                i == record.ChosenIndex ? "the chosen response"
                                    : record.Candidates.Count == 2 ? "the rejected response"
                                    : $"candidate {i + 1} of {record.Candidates.Count}"
                            ),
                            c.Quality ?? (i == record.ChosenIndex ? 1 : 0)
                        )
                )
                .ToArray();
            groups.Add(new PromptGroup(record.Id, prompt, candidates, record.ChosenIndex));
        }
        if (groups.Count <= data.EvalPrompts)
            throw new ArgumentException(
                $"{path}: {groups.Count} usable prompts, but data.eval_prompts holds out "
                    + $"{data.EvalPrompts}; lower data.eval_prompts"
                    + (report.SkippedTooFewCandidates > 0 ? $" ({report})" : "")
            );
        var order = Enumerable.Range(0, groups.Count).ToList();
        new SeededRandom(SeededRandom.Derive(config.Seed, "holdout")).Shuffle(order);
        var held = order.Take(data.EvalPrompts).ToHashSet();
        var train = groups.Where((_, i) => !held.Contains(i)).ToArray();
        var heldGroups = groups.Where((_, i) => held.Contains(i)).ToArray();
        var demos = train.Select(g => g with { Candidates = [g.Candidates[g.ChosenIndex]], ChosenIndex = 0 }).ToArray();
        var taskData = new TaskData(train.Select(Ref).ToArray(), demos, heldGroups.Select(Ref).ToArray());
        return new Loaded(taskData, train, heldGroups, report);
    }

    private static PromptRef Ref(PromptGroup g) => new(g.PromptId, g.PromptTokenIds);

    /// <summary>
    /// 1-based line numbers of the file's records (its non-blank lines, split at '\n' as the JSONL reader splits), so
    /// an
    /// encoding error can name the line of its record.
    /// </summary>
    private static List<int> RecordLines(string path)
    {
        var lines = new List<int>();
        var bytes = File.ReadAllBytes(path);
        int number = 1;
        bool blank = true;
        for (int i = 0; i < bytes.Length; i++)
        {
            byte b = bytes[i];
            if (b == (byte)'\n')
            {
                if (!blank)
                    lines.Add(number);
                number++;
                blank = true;
            }
            else if (
                b is not ((byte)' ' or (byte)'\t' or (byte)'\r')
                && !(number == 1 && i < 3 && b is 0xEF or 0xBB or 0xBF)
            )
                blank = false;
        }
        if (!blank)
            lines.Add(number);
        return lines;
    }

    private interface IEncoder
    {
        int[] Prompt(PromptCandidates record);
        int[] Response(Alignment.Data.Candidate candidate, int promptTokens);
    }

    /// <summary>The toy vocabulary: digit strings only, prompts at most data.max_length digits (the toy policy's
    /// table).</summary>
    private sealed class ToyEncoder(int maxLength) : IEncoder
    {
        public int[] Prompt(PromptCandidates record)
        {
            if (record.Prompt is null || record.Candidates.Any(c => c.Text is null))
                throw new ArgumentException(
                    "conversational prompts and responses need a chat-template tokenizer (policy.kind hf); the toy policy reads plain digit strings"
                );
            var ids = ToyVocabulary.Encode(record.Prompt);
            if (ids.Length > maxLength)
                throw new ArgumentException(
                    $"the prompt has {ids.Length} tokens but data.max_length is {maxLength} (the toy policy's prompt table); raise data.max_length"
                );
            return ids;
        }

        public int[] Response(Alignment.Data.Candidate candidate, int promptTokens) =>
            ToyVocabulary.EncodeResponse(candidate.Text!);
    }

    /// <summary>The model's tokenizer and chat template, with the length limits and the vocabulary check.</summary>
    private sealed class HfEncoder(ModelTextCodec codec, int maxPrompt, int maxResponse, bool truncate) : IEncoder
    {
        public int[] Prompt(PromptCandidates record)
        {
            var ids = Checked(codec.EncodePrompt(record.Prompt, record.PromptMessages), "prompt");
            if (ids.Length <= maxPrompt)
                return ids;
            if (!truncate)
                throw new ArgumentException(
                    $"the prompt has {ids.Length} tokens but data.max_prompt_tokens is {maxPrompt}; raise it, or set data.truncate: true to keep the prompt's last {maxPrompt} tokens"
                );
            return ids[^maxPrompt..]; // keep the end: the question and the assistant header sit there
        }

        public int[] Response(Alignment.Data.Candidate candidate, int promptTokens)
        {
            var ids = Checked(codec.EncodeResponse(candidate.Text, candidate.Messages), "response");
            if (ids.Length > maxResponse)
            {
                if (!truncate)
                    throw new ArgumentException(
                        $"a response has {ids.Length} tokens (end token included) but policy.max_response_length is {maxResponse}; raise it, or set data.truncate: true"
                    );
                ids = [.. ids[..(maxResponse - 1)], codec.EndId];
            }
            if (codec.MaxPositions is { } positions && promptTokens + ids.Length > positions)
                throw new ArgumentException(
                    $"prompt ({promptTokens}) + response ({ids.Length}) tokens exceed the model's {positions} positions "
                        + $"({Path.Combine(codec.Directory, "config.json")} n_positions); lower data.max_prompt_tokens or policy.max_response_length"
                );
            return ids;
        }

        private int[] Checked(int[] ids, string what) =>
            codec.OutOfVocabulary(ids) is { } bad
                ? throw new ArgumentException(
                    $"{what} token id {bad} is not below vocab_size {codec.VocabSize} of {Path.Combine(codec.Directory, "config.json")}: "
                        + $"{Path.Combine(codec.Directory, "tokenizer.json")} does not belong to this model"
                )
                : ids;
    }
}
