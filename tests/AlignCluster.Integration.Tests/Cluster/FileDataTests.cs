using System.Text.Json;
using AlignCluster.Client.Cluster;
using AlignCluster.Contracts;
using AlignCluster.Grains.Demo;

namespace AlignCluster.Integration.Tests.Cluster;

/// <summary>Training from a preference file (UltraFeedback-like rated completions) through the alignment
/// readers.</summary>
public class FileDataTests
{
    /// <summary>Writes n prompts "q{i}" with 3 completions: the reversal (score 1) and two with wrong digits (lower
    /// scores).</summary>
    internal static string WriteDataset(string directory, int n)
    {
        var random = new Random(3);
        var lines = new List<string>();
        for (int i = 0; i < n; i++)
        {
            string prompt = string.Concat(
                Enumerable.Range(0, 3 + random.Next(4)).Select(_ => (char)('0' + random.Next(10)))
            );
            string target = ReverseDigitsTask.Solve(prompt);
            var completions = new[] { target, Corrupt(target, 0), Corrupt(target, 1) }.Select(r => new
            {
                response = r,
                score = ReverseDigitsTask.Reward(prompt, r),
            });
            lines.Add(
                JsonSerializer.Serialize(
                    new
                    {
                        id = $"q{i}",
                        prompt,
                        completions,
                    }
                )
            );
        }
        string path = Path.Combine(directory, "data.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }

    private static string Corrupt(string s, int position) =>
        s[..position] + (char)('0' + (s[position] - '0' + 1) % 10) + s[(position + 1)..];

    [Fact]
    public void AResponseOutsideTheToyVocabularyIsNamedAsSuch()
    {
        // The error named only "field 'prompt …'", which read as if the prompt were wrong.
        string path = Path.Combine(TestConfigs.TempDirectory(), "pairs.jsonl");
        File.WriteAllLines(
            path,
            [
                """{"id": "a", "prompt": "12", "chosen": "21", "rejected": "11"}""",
                """{"id": "b", "prompt": "34", "chosen": "43", "rejected": "four"}""",
            ]
        );
        var config = TestConfigs.Tiny("toy-text") with
        {
            Data = new DataConfig
            {
                Source = "file",
                Path = path,
                EvalPrompts = 1,
            },
        };
        var e = Assert.Throws<Alignment.Data.DataFormatException>(() => FileData.Load(config));
        Assert.StartsWith(
            $"{path}:2: field 'prompt b': the rejected response: the toy vocabulary has only digits",
            e.Message
        );
    }

    [Fact]
    public async Task TrainsOnTheFileCandidatesAndHoldsOutEvalPrompts()
    {
        string directory = TestConfigs.TempDirectory();
        string path = WriteDataset(directory, 80);
        var config = TestConfigs.Tiny("from-file", rounds: 2) with
        {
            Data = new DataConfig
            {
                Source = "file",
                Path = path,
                EvalPrompts = 20,
            },
        };
        await using var cluster = await EmbeddedCluster.StartAsync(Path.Combine(directory, "state"));
        var status = await ClusterHarness.RunToEndAsync(cluster, config);
        Assert.Equal(20, status.History[^1].Eval!.Samples); // 20 held-out prompts × 1 sample

        var held = TaskData.For(config.Data, config.Seed).EvalPrompts.Select(p => p.PromptId).ToHashSet();
        var file = File.ReadAllLines(path)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .ToDictionary(
                r => r.GetProperty("id").GetString()!,
                r =>
                    r.GetProperty("completions")
                        .EnumerateArray()
                        .Select(c => (c.GetProperty("response").GetString()!, c.GetProperty("score").GetDouble()))
                        .ToList()
            );
        int seen = 0;
        for (int i = 0; i < config.Shards; i++)
            foreach (
                var group in await cluster
                    .Client.GetGrain<IPromptShardGrain>($"from-file/shard-{i}")
                    .GetTrainingItemsAsync(0)
            )
            {
                Assert.DoesNotContain(group.PromptId, held);
                var expected = file[group.PromptId];
                Assert.Equal(
                    expected.Select(e => e.Item1),
                    group.Candidates.Select(c => ToyVocabulary.Decode(c.TokenIds))
                );
                Assert.Equal(expected.Select(e => e.Item2), group.Candidates.Select(c => c.Rating));
                Assert.Equal(0, group.ChosenIndex); // the reversal has the top score
                seen++;
            }
        Assert.Equal(80 - 20, seen);
    }
}
