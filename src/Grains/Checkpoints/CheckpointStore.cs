using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using AlignCluster.Contracts;
using AlignCluster.Grains.Policy;
using AlignCluster.Hosting.Checkpoints;
using AlignCluster.Models.SafeTensors;

namespace AlignCluster.Grains.Checkpoints;

/// <summary>
/// Trainer checkpoints in a checkpoint store (a local directory, or Azure blobs), one prefix per round, keys in Hugging
/// Face layout:
/// <code>
/// {run}/round-0003/policy/config.json           the policy's config
/// {run}/round-0003/policy/model.safetensors     policy weights
/// {run}/round-0003/policy/tokenizer.json        hf policies: the model directory's tokenizer files, copied
/// {run}/round-0003/reference/model.safetensors  frozen reference weights
/// {run}/round-0003/optimizer.safetensors        AdamW moments and step
/// {run}/round-0003/trainer.json                 policy spec and RNG seed
/// {run}/round-0003/COMPLETE                     written last: a checkpoint without it is ignored
/// </code>
/// Each file write is atomic (the store's contract) and streamed (no size cap), and COMPLETE commits the set, so a
/// crash
/// mid-checkpoint never leaves a checkpoint that restore would read. Older rounds beyond <see cref="KeepRounds"/> are
/// deleted afterwards. Grains pass run ids and rounds, never the weights: `aligncluster export` copies a policy out.
/// </summary>
public sealed class CheckpointStore(ICheckpointStorage store, int keepRounds = 2)
{
    /// <summary>The most bytes one <see cref="ReadChunkAsync"/> returns (well under Orleans' message limit).</summary>
    public const int MaxChunk = 4 << 20;

    public int KeepRounds { get; } = keepRounds;

    /// <summary>Where the files live, for messages.</summary>
    public string Name => store.Name;

    public static string Prefix(string runId, int round) => $"{runId}/round-{round:D4}/";

    /// <summary>
    /// Files of an hf policy's model directory that travel with its checkpoints, so that a checkpoint (and an export)
    /// is a complete Hugging Face directory even after the original directory changed or is gone.
    /// </summary>
    public static readonly IReadOnlyList<string> TokenizerFiles =
    [
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "generation_config.json",
        "vocab.json",
        "merges.txt",
    ];

    /// <summary>What a trainer checkpoint holds besides tensors.</summary>
    public sealed record TrainerManifest(PolicySpec Spec, ulong Seed, int Round, DateTime WrittenUtc);

    public async Task<CheckpointInfo> WriteAsync(
        string runId,
        int round,
        PolicySpec spec,
        PolicyState policy,
        PolicyState reference,
        CancellationToken ct = default
    )
    {
        string prefix = Prefix(runId, round);
        // A stale COMPLETE from an earlier attempt at this round must not bless a half-rewritten set.
        await store.DeleteAsync(prefix + "COMPLETE", ct);
        long bytes = 0;
        async Task Put(string name, byte[] data)
        {
            await store.WriteAsync(prefix + name, data, ct);
            bytes += data.Length;
        }
        async Task PutTensors(string name, IEnumerable<NamedTensor> tensors)
        {
            long written = 0;
            await store.WriteAsync(
                prefix + name,
                async (stream, token) =>
                {
                    var counting = new CountingStream(stream);
                    var entries = tensors
                        .Select(t => new SafeTensorEntry(
                            t.Name,
                            SafeTensorDType.F32,
                            t.Shape,
                            t.Values.Length * 4L,
                            s => s.Write(MemoryMarshal.AsBytes(t.Values.AsSpan()))
                        ))
                        .ToList();
                    // The one safetensors writer is synchronous: it runs off the caller's scheduler, tensor by tensor.
                    await Task.Run(() => SafeTensorsWriter.Write(counting, prefix + name, entries), token);
                    written = counting.Written;
                },
                ct
            );
            bytes += written;
        }
        await Put("policy/config.json", Encoding.UTF8.GetBytes(policy.ConfigJson));
        await PutTensors("policy/model.safetensors", policy.Tensors.Where(t => !IsOptimizer(t)));
        if (spec.Kind == "hf" && spec.Path is { } modelDirectory)
            foreach (var name in TokenizerFiles)
                if (File.Exists(Path.Combine(modelDirectory, name)))
                    await Put("policy/" + name, await File.ReadAllBytesAsync(Path.Combine(modelDirectory, name), ct));
        await PutTensors("reference/model.safetensors", reference.Tensors.Where(t => !IsOptimizer(t)));
        await PutTensors("optimizer.safetensors", policy.Tensors.Where(IsOptimizer));
        await Put(
            "trainer.json",
            JsonSerializer.SerializeToUtf8Bytes(new TrainerManifest(spec, spec.Seed, round, DateTime.UtcNow))
        );
        await Put("COMPLETE", Encoding.UTF8.GetBytes(round.ToString()));
        await PruneAsync(runId, round, ct);
        return new CheckpointInfo(runId, round, prefix, bytes);
    }

    /// <summary>The checkpoint of a round, or null when it does not exist or is incomplete.</summary>
    public async Task<(TrainerManifest Manifest, PolicyState Policy, PolicyState Reference)?> ReadAsync(
        string runId,
        int round,
        CancellationToken ct = default
    )
    {
        string prefix = Prefix(runId, round);
        if (!await store.ExistsAsync(prefix + "COMPLETE", ct))
            return null;
        async Task<Stream> Open(string name) =>
            await store.OpenReadAsync(prefix + name, ct)
            ?? throw new InvalidDataException($"checkpoint {store.Name}/{prefix} is marked complete but lacks {name}");
        async Task<byte[]> Get(string name)
        {
            await using var stream = await Open(name);
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy, ct);
            return copy.ToArray();
        }
        async Task<List<NamedTensor>> Tensors(string name)
        {
            await using var stream = await Open(name);
            return await SafeTensorsCodec.ReadAsync(stream, $"{store.Name}/{prefix}{name}", ct);
        }
        var manifest = JsonSerializer.Deserialize<TrainerManifest>(await Get("trainer.json"))!;
        string config = Encoding.UTF8.GetString(await Get("policy/config.json"));
        var optimizer = await Tensors("optimizer.safetensors");
        var policy = new PolicyState(config, [.. await Tensors("policy/model.safetensors"), .. optimizer]);
        var reference = new PolicyState(config, await Tensors("reference/model.safetensors"));
        return (manifest, policy, reference);
    }

    /// <summary>Rounds with a complete checkpoint, ascending.</summary>
    public async Task<List<int>> RoundsAsync(string runId, CancellationToken ct = default)
    {
        var rounds = new List<int>();
        await foreach (var key in store.ListAsync(runId + "/round-", ct))
            if (
                key.EndsWith("/COMPLETE", StringComparison.Ordinal)
                && int.TryParse(key[(runId.Length + "/round-".Length)..^"/COMPLETE".Length], out int r)
            )
                rounds.Add(r);
        rounds.Sort();
        return rounds;
    }

    /// <summary>A round's policy files (config.json, model.safetensors, and an hf policy's tokenizer files) as names,
    /// keys
    /// and sizes, for a local export or one through a grain.</summary>
    /// <exception cref="FileNotFoundException">The round has no complete checkpoint.</exception>
    public async Task<ExportedPolicy> ReadExportAsync(string runId, int round, CancellationToken ct = default)
    {
        string prefix = Prefix(runId, round);
        if (!await store.ExistsAsync(prefix + "COMPLETE", ct))
            throw new FileNotFoundException(
                $"run '{runId}' has no complete checkpoint for round {round} in {store.Name}"
            );
        var files = new List<ExportedFile>();
        foreach (var name in new[] { "config.json", "model.safetensors" }.Concat(TokenizerFiles))
        {
            await using var stream = await store.OpenReadAsync(prefix + "policy/" + name, ct);
            if (stream is null)
            {
                if (name is "config.json" or "model.safetensors")
                    throw new InvalidDataException($"checkpoint {prefix} lacks policy/{name}");
                continue; // tokenizer files: present for hf policies, since they were copied in
            }
            files.Add(new ExportedFile(name, prefix + "policy/" + name, stream.Length));
        }
        return new ExportedPolicy(runId, round, [.. files]);
    }

    /// <summary>At most <see cref="MaxChunk"/> bytes of a stored file from <paramref name="offset"/> on.</summary>
    public async Task<byte[]> ReadChunkAsync(string key, long offset, int count, CancellationToken ct = default)
    {
        await using var stream = await store.OpenReadAsync(key, ct)
            ?? throw new ArgumentException($"no checkpoint file '{key}' in {store.Name}");
        if (stream.CanSeek)
            stream.Seek(offset, SeekOrigin.Begin);
        else
            for (var skip = new byte[1 << 16]; offset > 0; )
            {
                int read = await stream.ReadAsync(skip.AsMemory(0, (int)Math.Min(offset, skip.Length)), ct);
                if (read == 0)
                    break;
                offset -= read;
            }
        var buffer = new byte[Math.Clamp(count, 0, MaxChunk)];
        int got = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, ct);
        return got == buffer.Length ? buffer : buffer[..got];
    }

    /// <summary>Copies a round's policy out as a plain Hugging Face directory (config.json + model.safetensors,
    /// …).</summary>
    public async Task ExportAsync(
        string runId,
        int round,
        string directory,
        CancellationToken ct = default,
        Action<ExportedPolicy, ExportedFile, long>? copied = null
    ) =>
        await WriteExportAsync(
            await ReadExportAsync(runId, round, ct),
            directory,
            (key, offset) => ReadChunkAsync(key, offset, MaxChunk, ct),
            ct,
            copied
        );

    /// <summary>Copies the files of an export into <paramref name="directory"/>, each through a temp file and a rename;
    /// <paramref name="read"/> returns a file's bytes chunk by chunk (empty at the end). <paramref name="copied"/>
    /// hears
    /// of each chunk: the file being copied and the bytes of the whole export copied so far (for a progress
    /// display).</summary>
    public static async Task WriteExportAsync(
        ExportedPolicy policy,
        string directory,
        Func<string, long, Task<byte[]>> read,
        CancellationToken ct = default,
        Action<ExportedPolicy, ExportedFile, long>? copied = null
    )
    {
        Directory.CreateDirectory(directory);
        long done = 0;
        foreach (var file in policy.Files)
        {
            copied?.Invoke(policy, file, done);
            string target = Path.Combine(directory, Path.GetFileName(file.Name)),
                temp = target + ".tmp"; // a name never leaves the directory
            await using (var output = File.Create(temp))
                for (long offset = 0; offset < file.Length; )
                {
                    var chunk = await read(file.Key, offset);
                    if (chunk.Length == 0)
                        throw new InvalidDataException(
                            $"checkpoint file {file.Key} ended at {offset} of {file.Length} bytes"
                        );
                    await output.WriteAsync(chunk, ct);
                    offset += chunk.Length;
                    done += chunk.Length;
                    copied?.Invoke(policy, file, done);
                }
            File.Move(temp, target, overwrite: true);
        }
    }

    private async Task PruneAsync(string runId, int round, CancellationToken ct)
    {
        var rounds = await RoundsAsync(runId, ct);
        foreach (int old in rounds.Where(r => r <= round - KeepRounds))
        {
            string prefix = Prefix(runId, old);
            await store.DeleteAsync(prefix + "COMPLETE", ct); // un-bless first, then remove the rest
            var keys = new List<string>();
            await foreach (var key in store.ListAsync(prefix, ct))
                keys.Add(key);
            foreach (var key in keys)
                await store.DeleteAsync(key, ct);
        }
    }

    private static bool IsOptimizer(NamedTensor t) => t.Name.StartsWith("optimizer.", StringComparison.Ordinal);
}
