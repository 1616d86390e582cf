using System.Text.Json.Nodes;
using AlignCluster.Models.SafeTensors;
using AlignCluster.Tests.Shared;

namespace AlignCluster.Models.Tests;

/// <summary>
/// Reward models (HF XForSequenceClassification, one label). Reference values come from <see cref="RewardCheckpoint"/>:
/// the existing causal-LM forward's hidden state of each sequence alone, dotted by hand with score.weight — not
/// through <see cref="RewardModel"/>, its loader, its padding or its head.
/// </summary>
public sealed class RewardModelTests
{
    private static string Temp() => Directory.CreateTempSubdirectory("reward-model-").FullName;

    private static List<IReadOnlyList<int>> Sequences(
        int count,
        int seed,
        int vocab = TinyModels.Vocab,
        int? pad = null
    )
    {
        var rng = new Random(seed);
        // lengths 1..13 in a shuffled order, so batches mix lengths (and Mistral's 5-token window matters)
        return Enumerable
            .Range(0, count)
            .Select(i =>
            {
                int length = 1 + (i * 7 + 3) % 13;
                return (IReadOnlyList<int>)
                    Enumerable
                        .Range(0, length)
                        .Select(_ => rng.Next(vocab))
                        .Where(id => id != pad)
                        .DefaultIfEmpty(1)
                        .ToList();
            })
            .ToList();
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    [InlineData("qwen2")]
    [InlineData("mistral")]
    public void RewardIsTheHeadOnTheLastHiddenStateAndBatchingDoesNotChangeIt(string variant)
    {
        using var checkpoint = RewardCheckpoint.Write(Temp(), TinyModels.ByName(variant), seed: 5, padId: null);
        using var model = RewardModel.Load(checkpoint.Directory);
        var sequences = Sequences(9, seed: 1);

        double[] batched = model.Score(sequences, batchSize: 4); // mixed lengths, right padding
        double[] alone = model.Score(sequences, batchSize: 1); // no padding at all
        for (int i = 0; i < sequences.Count; i++)
        {
            double expected = checkpoint.Reference(sequences[i]);
            Assert.True(Math.Abs(expected - alone[i]) < 1e-4, $"{variant} row {i}: {alone[i]} vs reference {expected}");
            Assert.True(
                Math.Abs(batched[i] - alone[i]) < 1e-5,
                $"{variant} row {i}: batched {batched[i]} vs alone {alone[i]}"
            );
        }
        Assert.True(
            batched.Distinct().Count() > 1,
            "every sequence got the same reward: the head did not see the sequence"
        );
    }

    [Fact]
    public void TrailingPadTokensAreSkippedAsHuggingFaceDoes()
    {
        const int pad = 259;
        using var checkpoint = RewardCheckpoint.Write(Temp(), TinyModels.Gpt2(), seed: 6, padId: pad);
        using var model = RewardModel.Load(checkpoint.Directory);
        int[] plain = [10, 20, 30, 40];
        int[] padded = [10, 20, 30, 40, pad, pad];
        double[] rewards = model.Score([plain, padded, [7, 8]], batchSize: 3);
        Assert.Equal(rewards[0], rewards[1], 5); // pooled at token 40 in both (causal: later pads do not reach it)
        Assert.Equal(checkpoint.Reference(plain), rewards[0], 4);
        Assert.Equal(checkpoint.Reference(padded), rewards[1], 4);
        Assert.Equal(3, RewardModel.LastTokenIndex(padded, pad));
        Assert.Equal(5, RewardModel.LastTokenIndex(padded, null));
    }

    [Fact]
    public void StateNamesAreHuggingFacesTrunkPrefixPlusScore()
    {
        using var gpt2 = RewardCheckpoint.Write(Temp(), TinyModels.Gpt2(), seed: 1, padId: null);
        using var llama = RewardCheckpoint.Write(Temp(), TinyModels.Llama(), seed: 1, padId: null);
        using var g = RewardModel.Load(gpt2.Directory);
        using var l = RewardModel.Load(llama.Directory);
        Assert.All(g.Network.state_dict().Keys, k =>
            Assert.True(k.StartsWith("transformer.") || k == "score.weight", k)
        );
        Assert.All(l.Network.state_dict().Keys, k => Assert.True(k.StartsWith("model.") || k == "score.weight", k));
        Assert.Equal([1L, 32L], l.Network.state_dict()["score.weight"].shape);
    }

    [Fact]
    public void ACheckpointThatIsNotARewardModelIsRefusedWithTheReason()
    {
        // A causal LM directory: architectures GPT2LMHeadModel.
        string lmDir = Path.Combine(Temp(), "lm");
        using (var lm = TinyModels.Create("gpt2"))
            lm.Save(lmDir);
        var error = Assert.Throws<ModelLoadException>(() => RewardModel.Check(lmDir));
        Assert.Contains("GPT2LMHeadModel", error.Message);
        Assert.Contains("not a sequence classifier", error.Message);

        // Declared a classifier but no score.weight.
        using var noScore = RewardCheckpoint.Write(Temp(), TinyModels.Llama(), seed: 2, padId: null, withScore: false);
        error = Assert.Throws<ModelLoadException>(() => RewardModel.Load(noScore.Directory));
        Assert.Contains("no tensor 'score.weight'", error.Message);
        Assert.Contains(Path.Combine(noScore.Directory, "model.safetensors"), error.Message);

        // Two labels (a classifier, not a reward model).
        using var twoLabels = RewardCheckpoint.Write(Temp(), TinyModels.Gpt2(), seed: 3, padId: null);
        string configPath = Path.Combine(twoLabels.Directory, "config.json");
        var json = JsonNode.Parse(File.ReadAllText(configPath))!;
        json["id2label"] = new JsonObject { ["0"] = "bad", ["1"] = "good" };
        File.WriteAllText(configPath, json.ToJsonString());
        error = Assert.Throws<ModelLoadException>(() => RewardModel.Check(twoLabels.Directory));
        Assert.Contains("num_labels is 2", error.Message);

        // Missing directory, missing config, missing weights.
        string missing = Path.Combine(Temp(), "nope");
        Assert.Contains(
            $"'{missing}' does not exist",
            Assert.Throws<ModelLoadException>(() => RewardModel.Check(missing)).Message
        );
        using var noWeights = RewardCheckpoint.Write(Temp(), TinyModels.Gpt2(), seed: 4, padId: null);
        File.Delete(Path.Combine(noWeights.Directory, "model.safetensors"));
        Assert.Contains(
            Path.Combine(noWeights.Directory, "model.safetensors"),
            Assert.Throws<ModelLoadException>(() => RewardModel.Check(noWeights.Directory)).Message
        );
        File.Delete(Path.Combine(noWeights.Directory, "config.json"));
        Assert.Contains(
            Path.Combine(noWeights.Directory, "config.json"),
            Assert.Throws<ModelLoadException>(() => RewardModel.Check(noWeights.Directory)).Message
        );
    }

    [Fact]
    public void AHeadOfTheWrongWidthOrATokenOutsideTheVocabularyIsAnError()
    {
        using var checkpoint = RewardCheckpoint.Write(Temp(), TinyModels.Gpt2(), seed: 7, padId: null);
        using (var model = RewardModel.Load(checkpoint.Directory))
        {
            var error = Assert.Throws<ArgumentException>(() =>
                model.Score([
                    [1, 2],
                    [3, TinyModels.Vocab],
                ])
            );
            Assert.Contains(
                $"sequence 1 holds token id {TinyModels.Vocab}, outside its vocabulary [0, {TinyModels.Vocab})",
                error.Message
            );
            Assert.Contains(
                "empty",
                Assert
                    .Throws<ArgumentException>(() =>
                        model.Score([
                            [],
                        ])
                    )
                    .Message
            );
        }
        // Rewrite the weights with a (1, 16) head: the shape error names the key and both shapes.
        string file = Path.Combine(checkpoint.Directory, "model.safetensors");
        var entries = checkpoint.Backbone.state_dict().Select(p => SafeTensorsTensors.ToEntry(p.Key, p.Value)).ToList();
        using var narrow = TorchSharp.torch.zeros(1, 16);
        entries.Add(SafeTensorsTensors.ToEntry("score.weight", narrow));
        File.Delete(file);
        SafeTensorsCheckpoint.Save(checkpoint.Directory, entries);
        var shapeError = Assert.Throws<ModelLoadException>(() => RewardModel.Check(checkpoint.Directory));
        Assert.Contains("'score.weight'", shapeError.Message);
        Assert.Contains("[1, 32]", shapeError.Message);
    }
}
