using System.Text;
using System.Text.Json;
using AlignCluster.Client.Cluster;
using AlignCluster.Contracts;
using AlignCluster.Grains.Checkpoints;
using AlignCluster.Grains.Configuration;
using AlignCluster.Grains.Demo;
using AlignCluster.Grains.Policy;
using AlignCluster.Models;
using AlignCluster.Models.Tokenization;

namespace AlignCluster.Integration.Tests.Cluster;

/// <summary>
/// Text preference data through a Hugging Face model directory (policy.kind hf): the model's tokenizer and chat
/// template encode it, the run trains on the embedded cluster, and the held-out evaluation is preference accuracy.
/// </summary>
public class HfTextDataTests
{
    // The byte-level test tokenizer: byte b has id b, then the special tokens in this order (ids 256..259).
    internal const int EndOfText = 256,
        ImStart = 257,
        ImEnd = 258,
        Pad = 259;

    /// <summary>A tiny GPT-2 in HF layout (config.json, model.safetensors, tokenizer.json, tokenizer_config.json with a
    /// ChatML template).</summary>
    internal static string WriteTinyModel(string parent, int positions = 96)
    {
        string dir = Path.Combine(parent, "model");
        var config = TorchPolicy.TinyConfig("gpt2", positions / 2 - 1, positions / 2) with
        {
            VocabSize = 260,
            BosTokenId = null,
            EosTokenIds = [EndOfText],
            PadTokenId = Pad,
        };
        using var model = LanguageModel.Create(
            config,
            TokenizerJson.BytesOnly("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|pad|>"),
            ChatFormat.ChatMl,
            seed: 3,
            eosToken: "<|endoftext|>"
        );
        model.Save(dir);
        return dir;
    }

    /// <summary>n TRL pairs: even ids conversational (message lists), odd ids plain strings. Chosen "yes i", rejected
    /// "no".</summary>
    internal static string WriteTextPairs(string dir, int n)
    {
        var lines = new List<string>();
        for (int i = 0; i < n; i++)
        {
            string question = $"Is {i} ok?",
                chosen = $"yes {i}",
                rejected = "no";
            lines.Add(
                i % 2 == 0
                    ? JsonSerializer.Serialize(
                        new
                        {
                            id = $"t{i}",
                            prompt = new[] { new { role = "user", content = question } },
                            chosen = new[] { new { role = "assistant", content = chosen } },
                            rejected = new[] { new { role = "assistant", content = rejected } },
                        }
                    )
                    : JsonSerializer.Serialize(
                        new
                        {
                            id = $"t{i}",
                            prompt = question,
                            chosen,
                            rejected,
                        }
                    )
            );
        }
        string path = Path.Combine(dir, "pairs.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }

    internal static RunConfig TextRun(string runId, string model, string data, int rounds = 2) =>
        TestConfigs.Tiny(runId, strategy: "random", rounds: rounds) with
        {
            Policy = new PolicyConfig
            {
                Kind = "hf",
                Path = model,
                MaxResponseLength = 16,
            },
            Data = new DataConfig
            {
                Source = "file",
                Path = data,
                EvalPrompts = 4,
            },
            Sft = new SftConfig { Enabled = false },
            Training = new TrainingConfig
            {
                Rounds = rounds,
                BatchSize = 8,
                LearningRate = 1e-3,
            },
        };

    private static int[] Bytes(string s) => Encoding.UTF8.GetBytes(s).Select(b => (int)b).ToArray();

    [Fact]
    public async Task TrainsOnTextThroughTheModelsTokenizerAndChatTemplateAndWritesCheckpoints()
    {
        string dir = TestConfigs.TempDirectory();
        string model = WriteTinyModel(dir);
        string data = WriteTextPairs(dir, 16);
        var config = TextRun("hf-text", model, data);
        await using var cluster = await EmbeddedCluster.StartAsync(Path.Combine(dir, "state"));
        var status = await ClusterHarness.RunToEndAsync(cluster, config, TimeSpan.FromMinutes(5));

        Assert.Equal(2, status.History.Length);
        Assert.All(status.History.SelectMany(r => r.Steps), s =>
            Assert.True(double.IsFinite(s.Loss) && s.GradNorm > 0, $"step {s}")
        );
        List<int> checkpoints = await new CheckpointStore(cluster.Store).RoundsAsync("hf-text");
        Assert.Contains(2, checkpoints);
        // A checkpoint is a complete HF directory: the export carries the tokenizer and loads as a model directory
        // again, even once the original directory is gone.
        string exported = Path.Combine(dir, "exported");
        await new CheckpointStore(cluster.Store).ExportAsync("hf-text", 2, exported);
        Assert.Equal(
            File.ReadAllBytes(Path.Combine(model, "tokenizer.json")),
            File.ReadAllBytes(Path.Combine(exported, "tokenizer.json"))
        );
        Directory.Move(model, model + ".gone");
        using (var reloaded = LanguageModel.Load(exported))
            Assert.Equal(
                LanguageModel.LoadTokenizer(model + ".gone").Encode("Is 3 ok?"),
                reloaded.Tokenizer.Encode("Is 3 ok?")
            );
        Directory.Move(model + ".gone", model);
        // No oracle for text: the reward rule cannot rate this tokenizer's ids, so nothing was sampled; the held-out
        // pairs (4 prompts, one rejected each) give the preference accuracy instead.
        var eval = status.History[^1].Eval!;
        Assert.Equal(0, eval.Samples);
        var preference = Assert.IsType<PreferenceEval>(eval.Preference);
        Assert.Equal(4, preference.Pairs);
        Assert.InRange(preference.Accuracy, 0, 1);
        Assert.Equal(preference.MeanChosenReward - preference.MeanRejectedReward, preference.MeanMargin, 12);
        Assert.Equal(0, status.Baseline!.Preference!.MeanMargin); // before training the policy is the reference: r ≡ 0

        // The shards hold exactly what the tokenizer gives. Expected ids two independent ways: the tokenizer called
        // directly on the rendered text, and by hand (this tokenizer maps byte b to id b, specials to 256..259).
        var tokenizer = LanguageModel.LoadTokenizer(model);
        var held = TaskData.For(config).EvalPrompts.Select(p => p.PromptId).ToHashSet();
        int seen = 0;
        for (int s = 0; s < config.Shards; s++)
            foreach (
                var group in await cluster
                    .Client.GetGrain<IPromptShardGrain>($"hf-text/shard-{s}")
                    .GetTrainingItemsAsync(0)
            )
            {
                Assert.DoesNotContain(group.PromptId, held);
                int i = int.Parse(group.PromptId[1..]);
                string question = $"Is {i} ok?";
                int[] prompt =
                    i % 2 == 0
                        ?
                        [
                            ImStart,
                            .. Bytes("user\n" + question),
                            ImEnd,
                            .. Bytes("\n"),
                            ImStart,
                            .. Bytes("assistant\n"),
                        ] // ChatML
                        : Bytes(question); // as-is (GPT-2 adds no BOS)
                string rendered =
                    i % 2 == 0 ? $"<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n" : question;
                Assert.Equal(prompt, group.PromptTokenIds);
                Assert.Equal(tokenizer.Encode(rendered, addSpecialTokens: i % 2 == 1), group.PromptTokenIds);
                Assert.Equal([.. Bytes($"yes {i}"), ImEnd], group.Candidates[group.ChosenIndex].TokenIds); // ChatML's end of turn
                Assert.Equal([.. tokenizer.Encode("no"), ImEnd], group.Candidates[1 - group.ChosenIndex].TokenIds);
                seen++;
            }
        Assert.Equal(16 - 4, seen);
    }

    [Fact]
    public void TheDocumentedExampleLoadsAndEncodes()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(root.FullName, "AlignCluster.sln")))
            root = root.Parent!;
        string model = WriteTinyModel(TestConfigs.TempDirectory(), positions: 128);
        var config = RunConfigLoader.Load(
            Path.Combine(root.FullName, "docs", "examples", "hf-text-run.yaml"),
            [$"policy.path={model}"]
        );
        Assert.Equal(Path.Combine(root.FullName, "docs", "examples", "hf-text-pairs.jsonl"), config.Data.Path); // relative to the YAML
        var loaded = FileData.Load(config);
        Assert.Equal((6, 2), (loaded.Train.Length, loaded.Held.Length));
    }

    [Fact]
    public void LongTextsAreAnErrorNamingTheLimitOrAreTruncatedWhenAskedTo()
    {
        string dir = TestConfigs.TempDirectory();
        string model = WriteTinyModel(dir);
        string data = WriteTextPairs(dir, 6);
        var config = TextRun("long", model, data);
        config = config with { Data = config.Data with { MaxPromptTokens = 5 } };
        var error = Assert.Throws<Alignment.Data.DataFormatException>(() => FileData.Load(config));
        Assert.Contains($"{data}:1: field 'prompt t0'", error.Message);
        Assert.Contains("data.max_prompt_tokens is 5", error.Message);

        // The error names the record's line: blank lines count as lines, not as records.
        string later = Path.Combine(dir, "later.jsonl");
        File.WriteAllLines(
            later,
            [
                """{"id":"a","prompt":"hi","chosen":"x","rejected":"y"}""",
                "  ",
                """{"id":"b","prompt":"hi","chosen":"x","rejected":"y"}""",
                """{"id":"c","prompt":"a prompt of many bytes","chosen":"x","rejected":"y"}""",
            ]
        );
        error = Assert.Throws<Alignment.Data.DataFormatException>(() =>
            FileData.Load(config with { Data = config.Data with { Path = later } })
        );
        Assert.StartsWith($"{later}:4: field 'prompt c'", error.Message);

        // Truncation keeps a prompt's last tokens and a response's first ones plus the end token.
        config = config with
        {
            Data = config.Data with { Truncate = true },
            Policy = config.Policy with { MaxResponseLength = 3 },
        };
        var loaded = FileData.Load(config);
        var group = loaded.Train.Concat(loaded.Held).Single(g => g.PromptId == "t1");
        Assert.Equal(Bytes("Is 1 ok?")[^5..], group.PromptTokenIds);
        Assert.Equal([.. Bytes("ye"), ImEnd], group.Candidates[0].TokenIds);
    }

    [Fact]
    public void AMissingTokenizerOrOneLargerThanTheModelIsAnErrorNamingTheFile()
    {
        string dir = TestConfigs.TempDirectory();
        string model = WriteTinyModel(dir);
        string data = WriteTextPairs(dir, 6);
        File.Delete(Path.Combine(model, "tokenizer.json"));
        var error = Assert.Throws<ConfigException>(() => FileData.Load(TextRun("x", model, data)));
        Assert.Contains(Path.Combine(model, "tokenizer.json"), error.Message);

        string other = TestConfigs.TempDirectory();
        string small = WriteTinyModel(other); // then config.json says 200 rows: a tokenizer of another model
        string configPath = Path.Combine(small, "config.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(configPath))!;
        json["vocab_size"] = 200;
        File.WriteAllText(configPath, json.ToJsonString());
        error = Assert.Throws<ConfigException>(() => FileData.Load(TextRun("x", small, data)));
        Assert.Contains("tokenizer.json has 260 ids", error.Message);
        Assert.Contains("vocab_size 200", error.Message);
    }
}
