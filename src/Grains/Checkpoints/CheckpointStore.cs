using System.Text;
using System.Text.Json;
using AlignCluster.Grains.Policy;
using AlignCluster.Interfaces;
using AlignCluster.Runtime.Storage;

namespace AlignCluster.Grains.Checkpoints;

/// <summary>
/// Trainer checkpoints in a state store (container "checkpoints"), one prefix per round, keys in Hugging Face layout:
/// <code>
/// {run}/round-0003/policy/config.json           the policy's config
/// {run}/round-0003/policy/model.safetensors     policy weights
/// {run}/round-0003/policy/tokenizer.json        hf policies: the model directory's tokenizer files, copied
/// {run}/round-0003/reference/model.safetensors  frozen reference weights
/// {run}/round-0003/optimizer.safetensors        AdamW moments and step
/// {run}/round-0003/trainer.json                 policy spec and RNG seed
/// {run}/round-0003/COMPLETE                     written last: a checkpoint without it is ignored
/// </code>
/// Each record write is atomic (the store's contract) and COMPLETE commits the set, so a crash mid-checkpoint never
/// leaves a checkpoint that restore would read. Older rounds beyond <see cref="KeepRounds"/> are deleted afterwards.
/// `aligncluster export` copies a policy out into a plain HF directory.
/// </summary>
public sealed class CheckpointStore(IStateStore store, int keepRounds = 2)
{
    public const string Container = "checkpoints";
    public int KeepRounds { get; } = keepRounds;

    public static string Prefix(string runId, int round) => $"{runId}/round-{round:D4}/";

    /// <summary>
    /// Files of an hf policy's model directory that travel with its checkpoints, so that a checkpoint (and an export)
    /// is a complete Hugging Face directory even after the original directory changed or is gone.
    /// </summary>
    public static readonly IReadOnlyList<string> TokenizerFiles =
        ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json", "vocab.json", "merges.txt"];

    /// <summary>What a trainer checkpoint holds besides tensors.</summary>
    public sealed record TrainerManifest(PolicySpec Spec, ulong Seed, int Round, DateTime WrittenUtc);

    public async Task<CheckpointInfo> WriteAsync(string runId, int round, PolicySpec spec, PolicyState policy, PolicyState reference, CancellationToken ct = default)
    {
        string prefix = Prefix(runId, round);
        // A stale COMPLETE from an earlier attempt at this round must not bless a half-rewritten set.
        await store.DeleteAsync(Container, prefix + "COMPLETE", null, ct);
        long bytes = 0;
        async Task Put(string name, byte[] data)
        {
            var existing = await store.ReadAsync(Container, prefix + name, ct);
            await store.WriteAsync(Container, prefix + name, data, existing?.Etag, ct);
            bytes += data.Length;
        }
        await Put("policy/config.json", Encoding.UTF8.GetBytes(policy.ConfigJson));
        await Put("policy/model.safetensors", SafeTensorsCodec.Encode(policy.Tensors.Where(t => !IsOptimizer(t))));
        if (spec.Kind == "hf" && spec.Path is { } modelDirectory)
            foreach (var name in TokenizerFiles)
                if (File.Exists(Path.Combine(modelDirectory, name)))
                    await Put("policy/" + name, await File.ReadAllBytesAsync(Path.Combine(modelDirectory, name), ct));
        await Put("reference/model.safetensors", SafeTensorsCodec.Encode(reference.Tensors.Where(t => !IsOptimizer(t))));
        await Put("optimizer.safetensors", SafeTensorsCodec.Encode(policy.Tensors.Where(IsOptimizer)));
        await Put("trainer.json", JsonSerializer.SerializeToUtf8Bytes(new TrainerManifest(spec, spec.Seed, round, DateTime.UtcNow)));
        await Put("COMPLETE", Encoding.UTF8.GetBytes(round.ToString()));
        await PruneAsync(runId, round, ct);
        return new CheckpointInfo(runId, round, Container + "/" + prefix, bytes);
    }

    /// <summary>The checkpoint of a round, or null when it does not exist or is incomplete.</summary>
    public async Task<(TrainerManifest Manifest, PolicyState Policy, PolicyState Reference)?> ReadAsync(string runId, int round, CancellationToken ct = default)
    {
        string prefix = Prefix(runId, round);
        if (await store.ReadAsync(Container, prefix + "COMPLETE", ct) is null) return null;
        async Task<byte[]> Get(string name) => (await store.ReadAsync(Container, prefix + name, ct))?.Data.ToArray()
            ?? throw new InvalidDataException($"checkpoint {store.Name}/{Container}/{prefix} is marked complete but lacks {name}");
        var manifest = JsonSerializer.Deserialize<TrainerManifest>(await Get("trainer.json"))!;
        string config = Encoding.UTF8.GetString(await Get("policy/config.json"));
        var optimizer = SafeTensorsCodec.Decode(await Get("optimizer.safetensors"), prefix + "optimizer.safetensors");
        var policy = new PolicyState(config, [.. SafeTensorsCodec.Decode(await Get("policy/model.safetensors"), prefix + "policy/model.safetensors"), .. optimizer]);
        var reference = new PolicyState(config, SafeTensorsCodec.Decode(await Get("reference/model.safetensors"), prefix + "reference/model.safetensors"));
        return (manifest, policy, reference);
    }

    /// <summary>Rounds with a complete checkpoint, ascending.</summary>
    public async Task<List<int>> RoundsAsync(string runId, CancellationToken ct = default)
    {
        var rounds = new List<int>();
        await foreach (var key in store.ListAsync(Container, runId + "/round-", ct))
            if (key.EndsWith("/COMPLETE", StringComparison.Ordinal)
                && int.TryParse(key[(runId.Length + "/round-".Length)..^"/COMPLETE".Length], out int r))
                rounds.Add(r);
        rounds.Sort();
        return rounds;
    }

    /// <summary>Copies a round's policy out as a plain Hugging Face directory (config.json + model.safetensors).</summary>
    public async Task ExportAsync(string runId, int round, string directory, CancellationToken ct = default) =>
        await WriteExportAsync(await ReadExportAsync(runId, round, ct), directory, ct);

    /// <summary>A round's policy files (config.json, model.safetensors, and an hf policy's tokenizer files), for a local
    /// export or one through a grain.</summary>
    /// <exception cref="FileNotFoundException">The round has no complete checkpoint.</exception>
    public async Task<ExportedPolicy> ReadExportAsync(string runId, int round, CancellationToken ct = default)
    {
        string prefix = Prefix(runId, round);
        if (await store.ReadAsync(Container, prefix + "COMPLETE", ct) is null)
            throw new FileNotFoundException($"run '{runId}' has no complete checkpoint for round {round} in {store.Name}");
        var files = new List<ExportedFile>();
        foreach (var name in new[] { "config.json", "model.safetensors" })
        {
            var record = await store.ReadAsync(Container, prefix + "policy/" + name, ct)
                ?? throw new InvalidDataException($"checkpoint {prefix} lacks policy/{name}");
            files.Add(new ExportedFile(name, record.Data.ToArray()));
        }
        foreach (var name in TokenizerFiles) // hf policies: present since they were copied in
            if (await store.ReadAsync(Container, prefix + "policy/" + name, ct) is { } record)
                files.Add(new ExportedFile(name, record.Data.ToArray()));
        return new ExportedPolicy(runId, round, [.. files]);
    }

    /// <summary>Writes exported files into <paramref name="directory"/>, each through a temp file and a rename.</summary>
    public static async Task WriteExportAsync(ExportedPolicy policy, string directory, CancellationToken ct = default)
    {
        Directory.CreateDirectory(directory);
        foreach (var file in policy.Files)
        {
            string target = Path.Combine(directory, Path.GetFileName(file.Name)), temp = target + ".tmp";   // a name never leaves the directory
            await File.WriteAllBytesAsync(temp, file.Data, ct);
            File.Move(temp, target, overwrite: true);
        }
    }

    private async Task PruneAsync(string runId, int round, CancellationToken ct)
    {
        var rounds = await RoundsAsync(runId, ct);
        foreach (int old in rounds.Where(r => r <= round - KeepRounds))
        {
            string prefix = Prefix(runId, old);
            await store.DeleteAsync(Container, prefix + "COMPLETE", null, ct); // un-bless first, then remove the rest
            var keys = new List<string>();
            await foreach (var key in store.ListAsync(Container, prefix, ct)) keys.Add(key);
            foreach (var key in keys) await store.DeleteAsync(Container, key, null, ct);
        }
    }

    private static bool IsOptimizer(NamedTensor t) => t.Name.StartsWith("optimizer.", StringComparison.Ordinal);
}
