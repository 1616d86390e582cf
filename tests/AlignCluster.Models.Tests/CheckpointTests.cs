using AlignCluster.Models.SafeTensors;
using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Models.Tests;

public sealed class CheckpointTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("models-ckpt").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Dir(string name) => Path.Combine(_root, name);

    [Theory]
    [InlineData("gpt2", ScalarType.Float32)]
    [InlineData("gpt2-untied", ScalarType.Float32)]
    [InlineData("llama", ScalarType.Float32)]
    [InlineData("llama-tied", ScalarType.BFloat16)]
    [InlineData("qwen2", ScalarType.Float32)]
    [InlineData("mistral", ScalarType.BFloat16)]
    public void SaveLoadSaveIsBitExact(string variant, ScalarType dtype)
    {
        using var model = TinyModels.Create(variant, seed: 3, dtype: dtype);
        model.Save(Dir("a"));
        using var loaded = LanguageModel.Load(Dir("a"), dtype);

        var original = model.Network.state_dict();
        var reloaded = loaded.Network.state_dict();
        Assert.Equal(original.Keys.Order(), reloaded.Keys.Order());
        foreach (var (name, tensor) in original)
            Assert.True(tensor.bytes.SequenceEqual(reloaded[name].bytes), $"{name} differs after the round trip");

        loaded.Save(Dir("b"));
        Assert.Equal(
            File.ReadAllBytes(Path.Combine(Dir("a"), "model.safetensors")),
            File.ReadAllBytes(Path.Combine(Dir("b"), "model.safetensors"))
        );
        Assert.Equal(
            File.ReadAllText(Path.Combine(Dir("a"), "tokenizer.json")),
            File.ReadAllText(Path.Combine(Dir("b"), "tokenizer.json"))
        );
        Assert.Equal(model.Config.ToJson(), loaded.Config.ToJson());
    }

    [Fact]
    public void StateDictNamesAreExactlyHuggingFaces()
    {
        foreach (var variant in new[] { "gpt2", "gpt2-untied", "llama", "qwen2" })
        {
            using var model = TinyModels.Create(variant);
            var expected = WeightLayout.Expected(model.Config);
            var state = model.Network.state_dict();
            Assert.Equal(expected.Select(e => e.Name).Order(), state.Keys.Order());
            foreach (var (name, shape) in expected)
                Assert.Equal(shape, state[name].shape);
        }
    }

    [Fact]
    public void ShardedCheckpointLoadsAndReplacesTheOldOne()
    {
        using var model = TinyModels.Create("llama", seed: 5);
        model.Save(Dir("s"), maxShardBytes: 20_000);
        Assert.True(File.Exists(Path.Combine(Dir("s"), SafeTensorsCheckpoint.IndexFileName)));
        Assert.True(Directory.GetFiles(Dir("s"), "model-*-of-*.safetensors").Length > 1);
        using var loaded = LanguageModel.Load(Dir("s"));
        foreach (var (name, tensor) in model.Network.state_dict())
            Assert.True(tensor.bytes.SequenceEqual(loaded.Network.state_dict()[name].bytes), name);

        model.Save(Dir("s")); // now one file: no shard or index may be left over
        Assert.Equal(
            ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"],
            Directory.GetFiles(Dir("s")).Select(Path.GetFileName).Order()
        );
    }

    [Fact]
    public void LoadErrorsNameTheFileAndKey()
    {
        using var model = TinyModels.Create("gpt2");
        model.Save(Dir("m"));

        File.WriteAllText(
            Path.Combine(Dir("m"), "config.json"),
            """{"model_type":"t5","architectures":["T5ForConditionalGeneration"]}"""
        );
        var e1 = Assert.Throws<ModelLoadException>(() => LanguageModel.Load(Dir("m")));
        Assert.Contains("config.json", e1.Message);
        Assert.Contains("model_type 't5'", e1.Message);

        // A config whose hidden size disagrees with the weights: every tensor is mis-shaped, the message lists key and
        // both shapes.
        File.WriteAllText(
            Path.Combine(Dir("m"), "config.json"),
            (model.Config with { Json = null, HiddenSize = 16 }).ToJson()
        );
        var e2 = Assert.Throws<ModelLoadException>(() => LanguageModel.Load(Dir("m")));
        Assert.Contains(
            "tensor 'transformer.wte.weight' in 'model.safetensors' has shape [260, 32], expected [260, 16]",
            e2.Message
        );

        model.Save(Dir("m"));
        File.Delete(Path.Combine(Dir("m"), "tokenizer.json"));
        Assert.Contains(
            "no tokenizer.json",
            Assert.Throws<ModelLoadException>(() => LanguageModel.Load(Dir("m"))).Message
        );

        model.Save(Dir("m"));
        File.WriteAllBytes(
            Path.Combine(Dir("m"), "model.safetensors"),
            File.ReadAllBytes(Path.Combine(Dir("m"), "model.safetensors"))[..100]
        );
        var e3 = Assert.Throws<ModelLoadException>(() => LanguageModel.Load(Dir("m")));
        Assert.Contains("model.safetensors", e3.Message);
    }

    [Fact]
    public void SpecialTokensAndTemplateComeFromTheCompanionFiles()
    {
        using var model = TinyModels.Create("qwen2", format: Tokenization.ChatFormat.ChatMl);
        model.Save(Dir("c"));
        using var loaded = LanguageModel.Load(Dir("c"));
        Assert.Equal(Tokenization.ChatFormat.ChatMl, loaded.Template.Format);
        Assert.Equal(256, loaded.EosId); // "<|endoftext|>" is id 256 in the bytes-only tokenizer
        Assert.Contains(258, loaded.StopTokenIds); // "<|im_end|>" ends a ChatML turn
        Assert.Equal(258, loaded.EncodeResponse("ok")[^1]);
    }
}
