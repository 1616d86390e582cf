using System.Text.Json;
using System.Text.RegularExpressions;

namespace AlignCluster.Models.SafeTensors;

/// <summary>
/// The weights of a Hugging Face model directory: either one <c>model.safetensors</c> or shards listed by
/// <c>model.safetensors.index.json</c> (<c>{"metadata": {"total_size": N}, "weight_map": {tensor: shard file}}</c>).
/// </summary>
public sealed partial class SafeTensorsCheckpoint : ISafeTensorSource
{
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly Dictionary<string, SafeTensorsFile> _fileOf;
    private readonly List<SafeTensorsFile> _files;

    private SafeTensorsCheckpoint(List<SafeTensorsFile> files, Dictionary<string, SafeTensorsFile> fileOf)
    {
        _files = files;
        _fileOf = fileOf;
    }

    /// <summary>The mapped files (one, or one per shard).</summary>
    public IReadOnlyList<SafeTensorsFile> Files => _files;

    public IReadOnlyCollection<string> Names => _fileOf.Keys;

    /// <summary>True when the directory holds a single-file or sharded safetensors checkpoint.</summary>
    public static bool Exists(string dir) =>
        File.Exists(Path.Combine(dir, IndexFileName)) || File.Exists(Path.Combine(dir, SingleFileName));

    /// <summary>Opens the checkpoint in <paramref name="dir"/> (the index wins when both forms are present).</summary>
    public static SafeTensorsCheckpoint Open(string dir)
    {
        dir = Path.GetFullPath(dir);
        string index = Path.Combine(dir, IndexFileName);
        if (File.Exists(index))
            return OpenSharded(index);
        string single = Path.Combine(dir, SingleFileName);
        if (!File.Exists(single))
            throw new SafeTensorsException(
                single,
                null,
                $"no {SingleFileName} or {IndexFileName} in the model directory"
            );
        var file = SafeTensorsFile.Open(single);
        return new SafeTensorsCheckpoint([file], file.Names.ToDictionary(n => n, _ => file));
    }

    private static SafeTensorsCheckpoint OpenSharded(string indexPath)
    {
        var weightMap = ReadWeightMap(indexPath);
        string dir = Path.GetDirectoryName(indexPath)!;
        var files = new Dictionary<string, SafeTensorsFile>();
        var fileOf = new Dictionary<string, SafeTensorsFile>();
        try
        {
            foreach (var (tensor, shard) in weightMap)
            {
                if (shard.Contains('/') || shard.Contains('\\') || shard.StartsWith('.'))
                    throw new SafeTensorsException(
                        indexPath,
                        tensor,
                        $"shard file name '{shard}' must be a plain file name in the model directory"
                    );
                if (!files.TryGetValue(shard, out var file))
                {
                    string shardPath = Path.Combine(dir, shard);
                    if (!File.Exists(shardPath))
                        throw new SafeTensorsException(
                            indexPath,
                            tensor,
                            $"shard '{shard}' listed in the index does not exist"
                        );
                    files[shard] = file = SafeTensorsFile.Open(shardPath);
                }
                if (!file.Contains(tensor))
                    throw new SafeTensorsException(
                        file.Path,
                        tensor,
                        $"the index {IndexFileName} places this tensor here but the shard does not hold it"
                    );
                fileOf[tensor] = file;
            }
        }
        catch
        {
            foreach (var f in files.Values)
                f.Dispose();
            throw;
        }
        return new SafeTensorsCheckpoint(files.Values.ToList(), fileOf);
    }

    private static Dictionary<string, string> ReadWeightMap(string indexPath)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(indexPath));
            if (!doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new SafeTensorsException(indexPath, null, "missing object 'weight_map'");
            var result = new Dictionary<string, string>();
            foreach (var p in map.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.String)
                    throw new SafeTensorsException(indexPath, p.Name, "weight_map value must be a shard file name");
                result[p.Name] = p.Value.GetString()!;
            }
            return result;
        }
        catch (JsonException e)
        {
            throw new SafeTensorsException(indexPath, null, $"index is not valid JSON ({e.Message})", e);
        }
    }

    public bool Contains(string name) => _fileOf.ContainsKey(name);

    public SafeTensorInfo Info(string name) =>
        _fileOf.TryGetValue(name, out var f)
            ? f.Info(name)
            : throw new SafeTensorsException(
                _files.FirstOrDefault()?.Path ?? "(checkpoint)",
                name,
                "no such tensor in the checkpoint"
            );

    public string FileOf(string name) =>
        _fileOf.TryGetValue(name, out var f) ? f.Path : _files.FirstOrDefault()?.Path ?? "(checkpoint)";

    public ReadOnlySpan<byte> Bytes(string name) =>
        _fileOf.TryGetValue(name, out var f)
            ? f.Bytes(name)
            : throw new SafeTensorsException(FileOf(name), name, "no such tensor in the checkpoint");

    public void Dispose()
    {
        foreach (var f in _files)
            f.Dispose();
    }

    /// <summary>
    /// Saves tensors as an HF checkpoint in <paramref name="dir"/>: one <c>model.safetensors</c> when everything fits
    /// in
    /// <paramref name="maxShardBytes"/>, else shards <c>model-0000i-of-0000N.safetensors</c> plus the index. Each file
    /// is
    /// written atomically and the index last, so a reader sees either the old or the new checkpoint; files of the
    /// previous layout are removed afterwards.
    /// </summary>
    public static void Save(
        string dir,
        IReadOnlyList<SafeTensorEntry> tensors,
        long maxShardBytes = 5L << 30,
        IReadOnlyDictionary<string, string>? metadata = null
    )
    {
        dir = Path.GetFullPath(dir);
        Directory.CreateDirectory(dir);
        var shards = new List<List<SafeTensorEntry>> { new() };
        long current = 0;
        foreach (var t in tensors)
        {
            if (current > 0 && current + t.ByteCount > maxShardBytes)
            {
                shards.Add([]);
                current = 0;
            }
            shards[^1].Add(t);
            current += t.ByteCount;
        }

        var keep = new HashSet<string>();
        if (shards.Count == 1)
        {
            SafeTensorsWriter.Write(
                Path.Combine(dir, SingleFileName),
                shards[0],
                metadata ?? new Dictionary<string, string> { ["format"] = "pt" }
            );
            keep.Add(SingleFileName);
        }
        else
        {
            var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < shards.Count; i++)
            {
                string name = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
                SafeTensorsWriter.Write(
                    Path.Combine(dir, name),
                    shards[i],
                    metadata ?? new Dictionary<string, string> { ["format"] = "pt" }
                );
                foreach (var t in shards[i])
                    weightMap[t.Name] = name;
                keep.Add(name);
            }
            long total = tensors.Sum(t => t.ByteCount);
            var index = new { metadata = new { total_size = total }, weight_map = weightMap };
            AtomicFile.WriteText(
                Path.Combine(dir, IndexFileName),
                JsonSerializer.Serialize(index, new JsonSerializerOptions { WriteIndented = true })
            );
            keep.Add(IndexFileName);
        }
        // Remove the previous layout's files (they would otherwise shadow or confuse the new checkpoint).
        foreach (var stale in Directory.EnumerateFiles(dir).Select(Path.GetFileName))
            if (
                stale is not null
                && !keep.Contains(stale)
                && (stale == SingleFileName || stale == IndexFileName || ShardName().IsMatch(stale))
            )
                File.Delete(Path.Combine(dir, stale));
    }

    [GeneratedRegex(@"^model-\d{5}-of-\d{5}\.safetensors$")]
    private static partial Regex ShardName();
}
