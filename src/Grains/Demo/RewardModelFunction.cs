using System.Collections.Concurrent;
using AlignCluster.Contracts;
using AlignCluster.Models;
using AlignCluster.Models.Tokenization;

namespace AlignCluster.Grains.Demo;

/// <summary>
/// <c>reward.kind: model</c>: rates (prompt, response) token ids with a Hugging Face reward-model checkpoint
/// (<see cref="RewardModel"/>; <c>reward.name</c> is its directory). The ids are the policy's, passed as they are, so
/// the reward model must share the policy's tokenizer — <see cref="Problems"/> checks that before a run starts.
/// It runs in the trainer's silo, on its CPU: the trainer's device holds the policy, its reference and the optimizer
/// state. A checkpoint is loaded once per process (on first use) and shared by every run that names it: each trainer
/// activation (and each checkpoint evaluation's) builds its reward function, and reloading weights each time would
/// cost more than the scoring.
/// </summary>
public sealed class RewardModelFunction : IRewardFunction
{
    /// <summary>Sequences per forward pass: big enough to amortize per-op overhead, small enough for long texts on
    /// CPU.</summary>
    public const int BatchSize = 16;

    private static readonly ConcurrentDictionary<string, RewardModelFunction> Loaded = new();
    private readonly Lazy<RewardModel> _model;
    private readonly Lock _gate = new(); // one forward at a time: libtorch's intra-op threads already use the cores

    private RewardModelFunction(string directory)
    {
        Directory = directory;
        _model = new Lazy<RewardModel>(() => RewardModel.Load(directory));
    }

    /// <summary>The checkpoint directory (absolute).</summary>
    public string Directory { get; }

    public string Name => $"model:{Directory}";

    /// <summary>The shared function for a directory; a changed config.json or weights file gets a fresh load.</summary>
    public static RewardModelFunction For(string directory)
    {
        directory = Path.GetFullPath(directory);
        string Stamp(string file) => File.GetLastWriteTimeUtc(Path.Combine(directory, file)).Ticks.ToString();
        return Loaded.GetOrAdd(
            $"{directory}|{Stamp("config.json")}|{Stamp("model.safetensors")}|{Stamp("model.safetensors.index.json")}",
            _ => new RewardModelFunction(directory)
        );
    }

    public Task<double[]> RateAsync(
        IReadOnlyList<(int[] Prompt, int[] Response)> items,
        CancellationToken cancellationToken = default
    ) =>
        Task.Run(
            () =>
            {
                var sequences = items.Select(i => (IReadOnlyList<int>)[.. i.Prompt, .. i.Response]).ToList();
                lock (_gate)
                    return _model.Value.Score(sequences, BatchSize);
            },
            cancellationToken
        );

    /// <summary>
    /// What is wrong with <c>reward.kind: model</c> in <paramref name="config"/>, one line naming <c>reward.name</c>,
    /// or
    /// null: the directory, a sequence-classification checkpoint with one label (<see cref="RewardModel.Check"/>), and
    /// a
    /// vocabulary that fits the policy's ids — the same tokenizer as an hf policy (tokenizer.json compared, or
    /// vocab_size when the reward model ships no tokenizer), at least the toy vocabulary for the other policies.
    /// </summary>
    public static string? Problems(RunConfig config)
    {
        string? dir = config.Reward.Name;
        if (string.IsNullOrEmpty(dir) || !System.IO.Directory.Exists(dir))
            return $"reward.name: reward model directory '{dir}' not found (reward.kind model takes the checkpoint directory)";
        ModelConfig rewardConfig;
        try
        {
            rewardConfig = RewardModel.Check(dir);
        }
        catch (ModelLoadException e)
        {
            return $"reward.name: {e.Message}";
        }

        if (config.Policy.Kind != "hf")
            return rewardConfig.VocabSize >= ToyVocabulary.Size
                ? null
                : $"reward.name: the reward model's vocab_size {rewardConfig.VocabSize} cannot hold policy.kind {config.Policy.Kind}'s {ToyVocabulary.Size} token ids";
        if (config.Policy.Path is not { } policyDir || !System.IO.Directory.Exists(policyDir))
            return null; // policy.path reports it
        try
        {
            return TokenizerMismatch(policyDir, dir, rewardConfig);
        }
        catch (Exception e) when (e is ModelLoadException or TokenizerException)
        {
            return $"reward.name: {e.Message}";
        }
    }

    private static string? TokenizerMismatch(string policyDir, string rewardDir, ModelConfig rewardConfig)
    {
        string? rewardTokenizer = TokenizerFile(rewardDir),
            policyTokenizer = TokenizerFile(policyDir);
        if (rewardTokenizer is null || policyTokenizer is null)
        {
            var policyConfig = ModelConfig.Load(Path.Combine(policyDir, "config.json"));
            return policyConfig.VocabSize == rewardConfig.VocabSize
                ? null
                : $"reward.name: the reward model's vocab_size {rewardConfig.VocabSize} differs from the policy's {policyConfig.VocabSize} "
                    + $"({Path.Combine(rewardDir, "config.json")} vs {Path.Combine(policyDir, "config.json")}): it reads the policy's token ids as they are, so it needs the policy's tokenizer";
        }
        if (File.ReadAllBytes(rewardTokenizer).AsSpan().SequenceEqual(File.ReadAllBytes(policyTokenizer)))
            return null;
        // Different files can still hold the same vocabulary (formatting, extra fields): compare id by id.
        var policy = LanguageModel.LoadTokenizer(policyDir);
        var reward = LanguageModel.LoadTokenizer(rewardDir);
        int size = Math.Max(policy.VocabSize, reward.VocabSize);
        for (int id = 0; id < size; id++)
        {
            string? p = policy.IdToToken(id),
                r = reward.IdToToken(id);
            if (p != r)
                return $"reward.name: {rewardTokenizer} is not the policy's tokenizer ({policyTokenizer}): id {id} is {Show(r)} there and {Show(p)} in the policy's "
                    + $"({reward.VocabSize} vs {policy.VocabSize} ids); the reward model reads the policy's token ids as they are, so it needs the same tokenizer";
        }
        return null;
    }

    private static string Show(string? token) => token is null ? "absent" : $"'{token}'";

    private static string? TokenizerFile(string dir) =>
        new[] { "tokenizer.json", "vocab.json" }.Select(f => Path.Combine(dir, f)).FirstOrDefault(File.Exists);
}
