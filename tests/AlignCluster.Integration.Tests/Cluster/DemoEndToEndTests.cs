using System.Text.Json;
using AlignCluster.Client.Demo;

namespace AlignCluster.Integration.Tests.Cluster;

/// <summary>The demo on the embedded cluster, shrunk: results.json with the schema, plots, consistent
/// numbers.</summary>
public class DemoEndToEndTests
{
    [Fact]
    public async Task SmallDemoWritesResultsAndPlotsFromRealRuns()
    {
        string output = TestConfigs.TempDirectory();
        var methods = DemoProtocol.Methods.Where(m => m.Name is "dpo_random" or "mcpo" or "mppo_pair_mnm").ToList();
        var options = new DemoOptions(
            output,
            Quick: true,
            Seeds: 2,
            InjectNoise: true,
            methods,
            Parallelism: 2,
            Customize: c =>
                c with
                {
                    Data = c.Data with { TrainPrompts = 96, EvalPrompts = 32 },
                    Training = c.Training with { Rounds = 2 },
                    Sft = c.Sft with { Epochs = 2 },
                }
        );
        var outcome = await DemoRunner.RunAsync(options);

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "results.json")));
        var rows = json.RootElement.GetProperty("methods").EnumerateArray().ToList();
        Assert.Equal(["methods"], json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(methods.Select(m => m.Name), rows.Select(r => r.GetProperty("name").GetString()));
        foreach (var row in rows)
        {
            Assert.Equal(
                ["name", "seeds", "oracle_reward_mean", "oracle_reward_std", "win_rate_vs_sft", "kl_to_sft"],
                row.EnumerateObject().Select(p => p.Name)
            );
            Assert.Equal(2, row.GetProperty("seeds").GetInt32());
            // Recompute mean and std from the runs' own final evaluations.
            var finals = outcome
                .Runs.Where(r => r.Method.Name == row.GetProperty("name").GetString())
                .Select(r => r.Status.History[^1].Eval!.OracleReward)
                .ToList();
            double mean = finals.Average();
            Assert.Equal(mean, row.GetProperty("oracle_reward_mean").GetDouble(), 12);
            Assert.Equal(
                Math.Sqrt(finals.Sum(x => (x - mean) * (x - mean)) / (finals.Count - 1)),
                row.GetProperty("oracle_reward_std").GetDouble(),
                12
            );
            Assert.InRange(row.GetProperty("win_rate_vs_sft").GetDouble(), 0, 1);
        }
        foreach (var run in outcome.Runs)
        {
            Assert.Equal(2, run.Status.History.Length);
            Assert.NotNull(run.Status.Baseline);
            Assert.True(run.Status.History.All(h => h.Steps.Length > 0));
        }
        foreach (
            var plot in new[]
            {
                "loss",
                "rewards_chosen",
                "rewards_rejected",
                "margins",
                "oracle_reward",
                "selection_change_rate",
            }
        )
            Assert.True(File.Exists(Path.Combine(output, "plots", plot + ".svg")), $"missing plot {plot}");
    }

    /// <summary>
    /// With fewer seeds than parallel runs, a seed's other methods wait for its first run's round 0 and reuse it: one
    /// `prepare` span does the work, the others carry preparation.reused (before, the second method started beside the
    /// first and prepared again).
    /// </summary>
    [Fact]
    public async Task OneSeedPreparesRoundZeroOnceForAllItsMethods()
    {
        using var spans = new SpanCapture();
        string output = TestConfigs.TempDirectory();
        var methods = DemoProtocol.Methods.Where(m => m.Name is "dpo_random" or "mcpo" or "exo_rw").ToList();
        var options = new DemoOptions(
            output,
            Quick: true,
            Seeds: 1,
            InjectNoise: false,
            methods,
            Parallelism: 2,
            Customize: c =>
                c with
                {
                    RunId = "prepare-once-" + c.RunId,
                    Data = c.Data with { TrainPrompts = 64, EvalPrompts = 16 },
                    Training = c.Training with { Rounds = 1 },
                    Sft = c.Sft with { Epochs = 1 },
                }
        );
        await DemoRunner.RunAsync(options);

        var prepares = spans
            .Finished.Where(a =>
                a.OperationName == "prepare"
                && (a.GetTagItem("run.id") as string ?? "").StartsWith("prepare-once-", StringComparison.Ordinal)
            )
            .ToList();
        Assert.Equal(methods.Count, prepares.Count);
        Assert.Equal(methods.Count - 1, prepares.Count(a => a.GetTagItem("preparation.reused") is not null));
    }
}
