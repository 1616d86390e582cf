using System.Text.Json.Nodes;
using AlignCluster.Client.Cluster;
using AlignCluster.Contracts;
using AlignCluster.Grains.Configuration;
using AlignCluster.Models;
using AlignCluster.Tests.Shared;

namespace AlignCluster.Integration.Tests.Cluster;

/// <summary>
/// <c>reward.kind: model</c>: a reward-model checkpoint rates the candidates an hf policy generates in online rounds.
/// Expected ratings come from <see cref="RewardCheckpoint.Reference"/> (the causal-LM forward's hidden state and a
/// hand-written head), never from the reward function under test.
/// </summary>
public class RewardModelRunTests
{
    /// <summary>A reward model over the policy's architecture and vocabulary, with the policy's tokenizer.json copied
    /// in.</summary>
    private static RewardCheckpoint WriteRewardModel(string parent, string policyDir, bool withScore = true)
    {
        var config = ModelConfig.Load(Path.Combine(policyDir, "config.json"));
        var checkpoint = RewardCheckpoint.Write(
            Path.Combine(parent, "reward"),
            config,
            seed: 21,
            padId: HfTextDataTests.Pad,
            withScore
        );
        File.Copy(Path.Combine(policyDir, "tokenizer.json"), Path.Combine(checkpoint.Directory, "tokenizer.json"));
        return checkpoint;
    }

    [Fact]
    public async Task OnlineCandidatesOfAnHfPolicyAreRatedByTheRewardModel()
    {
        string dir = TestConfigs.TempDirectory();
        string policy = HfTextDataTests.WriteTinyModel(dir);
        string data = HfTextDataTests.WriteTextPairs(dir, 12);
        using var reward = WriteRewardModel(dir, policy);
        var config = HfTextDataTests.TextRun("rm-online", policy, data, rounds: 2) with
        {
            Online = new OnlineConfig
            {
                Every = 1,
                Generations = 2,
                Temperature = 1.0,
                Cap = 8,
            },
            Reward = new RewardConfig { Kind = "model", Name = reward.Directory },
        };
        Assert.Empty(RunConfigLoader.Validate(config));
        await using var cluster = await EmbeddedCluster.StartAsync(Path.Combine(dir, "state"));
        var status = await ClusterHarness.RunToEndAsync(cluster, config, TimeSpan.FromMinutes(5));

        Assert.Equal(0, status.History[0].CandidatesAdded); // round 1 trains on the file's pairs
        Assert.True(status.History[1].CandidatesAdded > 0, "round 2 added no generated candidates");
        int generated = 0;
        for (int s = 0; s < config.Shards; s++)
            foreach (
                var group in await cluster
                    .Client.GetGrain<IPromptShardGrain>($"rm-online/shard-{s}")
                    .GetTrainingItemsAsync(0)
            )
            foreach (var c in group.Candidates.Where(c => c.CandidateId.StartsWith('g')))
            {
                double expected = reward.Reference([.. group.PromptTokenIds, .. c.TokenIds]);
                Assert.True(
                    Math.Abs(expected - c.Rating) < 1e-4,
                    $"{group.PromptId}/{c.CandidateId}: rating {c.Rating}, reward model gives {expected}"
                );
                generated++;
            }
        Assert.True(generated > 0, "no generated candidate survived the cap");
        // The reward model can rate this policy's samples, so the sampled evaluation runs (a rule could not).
        Assert.True(status.History[^1].Eval!.Samples > 0);
        Assert.True(double.IsFinite(status.History[^1].Eval!.OracleReward));
    }

    [Fact]
    public void ARewardModelWithAnotherTokenizerOrVocabularyIsRefusedNamingRewardName()
    {
        string dir = TestConfigs.TempDirectory();
        string policy = HfTextDataTests.WriteTinyModel(dir);
        string data = HfTextDataTests.WriteTextPairs(dir, 6);
        using var reward = WriteRewardModel(dir, policy);
        var config = HfTextDataTests.TextRun("rm", policy, data) with
        {
            Reward = new RewardConfig { Kind = "model", Name = reward.Directory },
        };
        Assert.Empty(RunConfigLoader.Validate(config));

        // Same vocabulary, rewritten file (indented): still accepted, compared id by id.
        string tokenizerPath = Path.Combine(reward.Directory, "tokenizer.json");
        File.WriteAllText(
            tokenizerPath,
            JsonNode.Parse(File.ReadAllText(tokenizerPath))!.ToJsonString(new() { WriteIndented = true })
        );
        Assert.Empty(RunConfigLoader.Validate(config));

        // One token renamed: another tokenizer.
        var json = JsonNode.Parse(File.ReadAllText(tokenizerPath))!;
        json["added_tokens"]![1]!["content"] = "<|other|>";
        File.WriteAllText(tokenizerPath, json.ToJsonString());
        var error = Assert.Single(RunConfigLoader.Validate(config));
        Assert.StartsWith($"reward.name: {tokenizerPath} is not the policy's tokenizer", error);
        Assert.Contains("'<|other|>'", error);

        // No tokenizer in the reward directory: vocab_size decides.
        File.Delete(tokenizerPath);
        Assert.Empty(RunConfigLoader.Validate(config));
        var wider = ModelConfig.Load(Path.Combine(policy, "config.json")) with { VocabSize = 300 };
        using var other = RewardCheckpoint.Write(Path.Combine(dir, "reward-300"), wider, seed: 2, padId: null);
        error = Assert.Single(
            RunConfigLoader.Validate(
                config with
                {
                    Reward = new RewardConfig { Kind = "model", Name = other.Directory },
                }
            )
        );
        Assert.StartsWith("reward.name: the reward model's vocab_size 300 differs from the policy's 260", error);
    }

    [Fact]
    public void ARelativeRewardNameIsResolvedAgainstTheConfigFileAndTaskDataIsRefusedForHfPolicies()
    {
        string dir = TestConfigs.TempDirectory();
        string policy = HfTextDataTests.WriteTinyModel(dir);
        HfTextDataTests.WriteTextPairs(dir, 6);
        using var reward = WriteRewardModel(dir, policy);
        string yaml = Path.Combine(dir, "run.yaml");
        File.WriteAllText(
            yaml,
            """
            policy: { kind: hf, path: model, max_response_length: 16 }
            data: { source: file, path: pairs.jsonl, eval_prompts: 2 }
            sft: { enabled: false }
            reward: { kind: model, name: reward }
            """
        );
        Assert.Equal(reward.Directory, RunConfigLoader.Load(yaml).Reward.Name);

        var error = Assert.Throws<ConfigException>(() => RunConfigLoader.Load(yaml, ["data.source=task"]));
        Assert.Contains("data.source: the task 'reverse_digits' is written in the toy vocabulary", error.Message);
        Assert.Contains("with policy.kind hf use data.source file", error.Message);
    }

    [Fact]
    public void TrainWithACheckpointThatIsNotARewardModelExitsWithTheReasonAndWritesNothing()
    {
        string dir = TestConfigs.TempDirectory();
        string policy = HfTextDataTests.WriteTinyModel(dir);
        string data = HfTextDataTests.WriteTextPairs(dir, 6);
        using var reward = WriteRewardModel(dir, policy, withScore: false);
        string state = Path.Combine(dir, "state");
        var (code, _, err) = CliProcess.Run(
            "train",
            "--state",
            state,
            "--set",
            "policy.kind=hf",
            "--set",
            $"policy.path={policy}",
            "--set",
            "policy.max_response_length=16",
            "--set",
            "data.source=file",
            "--set",
            $"data.path={data}",
            "--set",
            "data.eval_prompts=2",
            "--set",
            "sft.enabled=false",
            "--set",
            "online.every=1",
            "--set",
            "reward.kind=model",
            "--set",
            $"reward.name={reward.Directory}"
        );
        Assert.Equal(2, code);
        Assert.Contains(
            $"reward.name: {Path.Combine(reward.Directory, "model.safetensors")}: no tensor 'score.weight': not a sequence-classification checkpoint",
            err
        );
        Assert.DoesNotContain("   at ", err);
        Assert.False(
            Directory.Exists(state),
            "a refused run must not create the state directory (so no checkpoint, partial or whole)"
        );
    }
}
