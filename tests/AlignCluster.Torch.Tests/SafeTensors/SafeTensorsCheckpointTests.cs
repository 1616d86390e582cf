using System.Text.Json;
using AlignCluster.Torch.SafeTensors;

namespace AlignCluster.Torch.Tests.SafeTensors;

public sealed class SafeTensorsCheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("st-ckpt").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static List<SafeTensorEntry> Entries(int count, int floatsEach) =>
        Enumerable.Range(0, count).Select(i =>
        {
            var values = Enumerable.Range(0, floatsEach).Select(j => i * 100f + j).ToArray();
            return SafeTensorEntry.FromBytes($"layer.{i}.weight", SafeTensorDType.F32, [floatsEach], SafeTensorValues.Encode(values, SafeTensorDType.F32));
        }).ToList();

    [Fact]
    public void ShardedSaveWritesIndexAndLoadsEveryTensor()
    {
        var entries = Entries(5, 10); // 40 bytes each; 100-byte shards hold two → 3 shards
        SafeTensorsCheckpoint.Save(_dir, entries, maxShardBytes: 100);

        Assert.False(File.Exists(Path.Combine(_dir, "model.safetensors")));
        using (var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, SafeTensorsCheckpoint.IndexFileName))))
        {
            Assert.Equal(200, index.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64());
            Assert.Equal("model-00003-of-00003.safetensors", index.RootElement.GetProperty("weight_map").GetProperty("layer.4.weight").GetString());
        }
        using var ckpt = SafeTensorsCheckpoint.Open(_dir);
        Assert.Equal(3, ckpt.Files.Count);
        Assert.Equal(5, ckpt.Names.Count);
        Assert.Equal(Enumerable.Range(0, 10).Select(j => 300f + j), ckpt.ReadFloat32("layer.3.weight"));
        Assert.EndsWith("model-00002-of-00003.safetensors", ckpt.FileOf("layer.3.weight"));
    }

    [Fact]
    public void SwitchingLayoutsRemovesStaleFiles()
    {
        SafeTensorsCheckpoint.Save(_dir, Entries(4, 10), maxShardBytes: 50);
        Assert.Equal(4, Directory.GetFiles(_dir, "model-*").Length);
        SafeTensorsCheckpoint.Save(_dir, Entries(2, 10));
        Assert.Equal(["model.safetensors"], Directory.GetFiles(_dir).Select(Path.GetFileName));
        using var ckpt = SafeTensorsCheckpoint.Open(_dir);
        Assert.Equal(2, ckpt.Names.Count);
    }

    [Fact]
    public void IndexPointingAtMissingShardOrTensorIsAClearError()
    {
        SafeTensorsCheckpoint.Save(_dir, Entries(2, 4), maxShardBytes: 16);
        string indexPath = Path.Combine(_dir, SafeTensorsCheckpoint.IndexFileName);
        string original = File.ReadAllText(indexPath);

        File.WriteAllText(indexPath, original.Replace("model-00002-of-00002", "model-00009-of-00002"));
        var e1 = Assert.Throws<SafeTensorsException>(() => SafeTensorsCheckpoint.Open(_dir));
        Assert.Contains("model-00009-of-00002.safetensors", e1.Message);
        Assert.Contains("layer.1.weight", e1.Message);

        File.WriteAllText(indexPath, original.Replace("\"layer.1.weight\"", "\"layer.7.weight\""));
        var e2 = Assert.Throws<SafeTensorsException>(() => SafeTensorsCheckpoint.Open(_dir));
        Assert.Contains("layer.7.weight", e2.Message);

        File.WriteAllText(indexPath, "{ not json");
        Assert.Contains("not valid JSON", Assert.Throws<SafeTensorsException>(() => SafeTensorsCheckpoint.Open(_dir)).Message);
    }

    [Fact]
    public void EmptyDirectoryIsAClearError()
    {
        var e = Assert.Throws<SafeTensorsException>(() => SafeTensorsCheckpoint.Open(_dir));
        Assert.Contains("model.safetensors", e.Message);
    }
}
