using AlignCluster.Alignment.Data;
using AlignCluster.Grains.Policy;
using AlignCluster.Interfaces;

namespace AlignCluster.Grains.Demo;

/// <summary>
/// Preference data from a JSONL file (any format the alignment readers accept: TRL pairs, Nectar ranks,
/// UltraFeedback-like scores, generic candidates; their rules pick the chosen, merge duplicates and skip prompts with
/// fewer than two candidates). Texts are encoded with the policy's tokenizer — for the toy policy, digits only.
/// A rating is the candidate's score, or −rank, or (no rating given) 1 for the chosen and 0 for the others.
/// <c>data.eval_prompts</c> prompts (a seeded draw) are held out for evaluation and never trained on.
/// </summary>
public static class FileData
{
    /// <summary>Reads and validates the whole file; errors name file:line and field (or the candidate that cannot be encoded).</summary>
    public static (TaskData Data, PromptGroup[] Groups, ReadReport Report) Load(DataConfig config, ulong seed)
    {
        string path = config.Path ?? throw new ArgumentException("data.path: required when data.source is file");
        var (records, report) = PreferenceReader.ReadAll(path);
        var groups = new List<PromptGroup>();
        foreach (var record in records)
        {
            if (record.Prompt is null || record.Candidates.Any(c => c.Text is null))
                throw new DataFormatException(DataErrorKind.WrongType, path, 0, $"prompt {record.Id}",
                    "conversational prompts and responses need a chat-template tokenizer (policy.kind hf); the toy policy reads plain digit strings");
            var candidates = record.Candidates.Select((c, i) => new Interfaces.Candidate($"c{i}", Encode(path, record.Id, c.Text!, response: true),
                c.Quality ?? (i == record.ChosenIndex ? 1 : 0))).ToArray();
            var prompt = Encode(path, record.Id, record.Prompt, response: false);
            if (prompt.Length > config.MaxLength)
                throw new DataFormatException(DataErrorKind.WrongType, path, 0, $"prompt {record.Id}",
                    $"the prompt has {prompt.Length} tokens but data.max_length is {config.MaxLength} (the toy policy's prompt table); raise data.max_length");
            groups.Add(new PromptGroup(record.Id, prompt, candidates, record.ChosenIndex));
        }
        if (groups.Count <= config.EvalPrompts)
            throw new ArgumentException($"{path}: {groups.Count} usable prompts, but data.eval_prompts holds out {config.EvalPrompts}; lower data.eval_prompts");
        var order = Enumerable.Range(0, groups.Count).ToList();
        new SeededRandom(SeededRandom.Derive(seed, "holdout")).Shuffle(order);
        var held = order.Take(config.EvalPrompts).ToHashSet();
        var train = groups.Where((_, i) => !held.Contains(i)).ToArray();
        var eval = groups.Where((_, i) => held.Contains(i)).Select(g => new PromptRef(g.PromptId, g.PromptTokenIds)).ToArray();
        var demos = train.Select(g => g with { Candidates = [g.Candidates[g.ChosenIndex]], ChosenIndex = 0 }).ToArray();
        var data = new TaskData(train.Select(g => new PromptRef(g.PromptId, g.PromptTokenIds)).ToArray(), demos, eval);
        return (data, train, report);
    }

    private static int[] Encode(string path, string promptId, string text, bool response)
    {
        try { return response ? ToyVocabulary.EncodeResponse(text) : ToyVocabulary.Encode(text); }
        catch (ArgumentException e)
        {
            throw new DataFormatException(DataErrorKind.WrongType, path, 0, $"prompt {promptId}", e.Message);
        }
    }
}
