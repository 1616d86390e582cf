using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AlignCluster.Contracts;
using AlignCluster.Grains.Configuration;
using AlignCluster.Hosting.Checkpoints;

namespace AlignCluster.Grains.Coordinator;

/// <summary>
/// What round 0 of a run produced — SFT policy (a checkpoint under <see cref="CheckpointId"/>), candidate sets with
/// their ratings and cached reference log-probs, held-out prompts, the SFT report and the baseline evaluation — so
/// that another run whose preparation inputs are identical (a sweep over losses or selectors with one seed) starts
/// from it instead of repeating SFT, sampling, rating and reference scoring. Preparation is deterministic in those
/// inputs, so a reused preparation equals a recomputed one.
/// </summary>
public sealed record PreparedRun(
    string CheckpointId,
    PromptGroup[] Groups,
    PromptRef[] EvalPrompts,
    SftReport? Sft,
    EvalResult Baseline,
    int PromptsSkipped
);

/// <summary>
/// Prepared runs in the checkpoint store (key "prepared/{key}.json"; the policy checkpoint is
/// round 0 of run id "prepared/{key}"). The key hashes every input of preparation: the config without the
/// sections that only act after round 0 (run id, loss, selection, training, online, checkpoint, shards), the data
/// file's bytes, the listings (names, sizes, times) of the policy directory and of a reward-model checkpoint, and this
/// build's version.
/// </summary>
public sealed class PreparationCache(ICheckpointStorage store)
{
    /// <summary>The checkpoint run id a prepared policy is written under.</summary>
    public static string CheckpointId(string key) => $"prepared/{key}";

    /// <summary>The hash of everything preparation depends on (hex, 32 characters).</summary>
    public static string Key(RunConfig config)
    {
        var inputs = config with
        {
            RunId = "",
            Shards = 0,
            Loss = new LossConfig(),
            Selection = new SelectionConfig(),
            Training = new TrainingConfig { Trainers = config.Training.Trainers }, // splits SFT sums and sampling batches
            Online = new OnlineConfig(),
            Checkpoint = new CheckpointConfig(),
            ReusePreparation = true,
        };
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(RunConfigLoader.ToYaml(inputs)));
        hash.AppendData(
            Encoding.UTF8.GetBytes(
                typeof(PreparationCache)
                    .Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()
                    ?.InformationalVersion
                    ?? "?"
            )
        );
        if (config.Data.Source == "file" && config.Data.Path is { } data && File.Exists(data))
        {
            using var file = File.OpenRead(data);
            hash.AppendData(SHA256.HashData(file));
        }
        if (config.Policy.Path is { } model)
            AppendListing(hash, model);
        // A reward model rates the sampled candidates: a checkpoint rewritten at the same path must not reuse old
        // ratings.
        if (config.Reward.Kind == "model")
            AppendListing(hash, config.Reward.Name);
        return Convert.ToHexStringLower(hash.GetHashAndReset())[..32];
    }

    /// <summary>A model directory's listing (names, sizes, times): cheap, unlike hashing gigabytes of
    /// weights.</summary>
    private static void AppendListing(IncrementalHash hash, string directory)
    {
        if (!Directory.Exists(directory))
            return;
        foreach (
            var f in new DirectoryInfo(directory)
                .EnumerateFiles("*", SearchOption.AllDirectories)
                .OrderBy(f => f.FullName, StringComparer.Ordinal)
        )
            hash.AppendData(
                Encoding.UTF8.GetBytes(
                    $"{Path.GetRelativePath(directory, f.FullName)}|{f.Length}|{f.LastWriteTimeUtc.Ticks}\n"
                )
            );
    }

    /// <summary>The prepared run of <paramref name="key"/>, or null (none yet, or unreadable: then it is
    /// recomputed).</summary>
    public async Task<PreparedRun?> ReadAsync(string key, CancellationToken ct = default)
    {
        await using var stream = await store.OpenReadAsync($"prepared/{key}.json", ct);
        if (stream is null)
            return null;
        try
        {
            return await JsonSerializer.DeserializeAsync<PreparedRun>(stream, cancellationToken: ct);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Records a prepared run unless one exists already (two runs preparing at once write the same thing, and
    /// each write replaces the file atomically).</summary>
    public async Task WriteAsync(string key, PreparedRun prepared, CancellationToken ct = default)
    {
        string name = $"prepared/{key}.json";
        if (!await store.ExistsAsync(name, ct))
            await store.WriteAsync(name, JsonSerializer.SerializeToUtf8Bytes(prepared), ct);
    }
}
