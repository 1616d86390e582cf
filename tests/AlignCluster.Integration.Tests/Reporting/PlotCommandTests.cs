using AlignCluster.Client.Cluster;
using AlignCluster.Client.Reporting;
using AlignCluster.Contracts;
using AlignCluster.Integration.Tests.Cluster;

namespace AlignCluster.Integration.Tests.Reporting;

/// <summary>
/// `aligncluster plot` as a user runs it (the built client as a subprocess) on the state of real runs: two seeds of one
/// config become one series whose line and band read back as the mean and spread of the runs' own numbers.
/// </summary>
public class PlotCommandTests
{
    private static string Hex(int series) => PlotWriter.SeriesColor(series).ToHex()[..7];

    /// <summary>Two seeds of a tiny run, in the run index as `train` records them; their final statuses.</summary>
    private static async Task<(string State, RunStatus[] Runs)> TwoSeedsAsync()
    {
        string state = Path.Combine(TestConfigs.TempDirectory(), "state");
        await using var cluster = await EmbeddedCluster.StartAsync(state);
        var runs = new RunStatus[2];
        for (int seed = 1; seed <= 2; seed++)
        {
            var config = TestConfigs.Tiny($"plot-s{seed}", seed: (ulong)seed, rounds: 2) with
            {
                Data = new DataConfig { TrainPrompts = 64, EvalPrompts = 16 },
                Shards = 1,
            };
            await cluster.Runs.AddAsync(config);
            runs[seed - 1] = await ClusterHarness.RunToEndAsync(cluster, config);
        }
        return (state, runs);
    }

    [Fact]
    public async Task PlotsTwoSeedsAsOneBandedSeriesWithTheSftLine()
    {
        var (state, runs) = await TwoSeedsAsync();
        string output = Path.Combine(Path.GetDirectoryName(state)!, "plots");
        var (code, stdout, stderr) = CliProcess.Run("plot", "plot-s1", "plot-s2", "--state", state, "--out", output);
        Assert.True(code == 0, $"plot failed ({code}): {stderr}\n{stdout}");
        string[] expected =
        [
            "loss",
            "rewards_chosen",
            "rewards_rejected",
            "margins",
            "accuracies",
            "selection_change_rate",
            "oracle_reward",
            "win_rate_vs_sft",
            "kl_to_sft",
            "round_seconds",
        ];
        foreach (var name in expected)
        {
            Assert.True(File.Exists(Path.Combine(output, name + ".png")), $"missing {name}.png");
            Assert.True(File.Exists(Path.Combine(output, name + ".svg")), $"missing {name}.svg");
        }

        // Oracle reward: round 0 is each seed's SFT baseline, then the evaluation after rounds 1 and 2.
        var svg = new SvgPlot(File.ReadAllText(Path.Combine(output, "oracle_reward.svg")));
        Assert.Contains("plot (2 seeds)", svg.Texts);
        Assert.Contains("round", svg.Texts);
        Assert.Contains("oracle reward (mean score per sample)", svg.Texts);
        double[] Seed(RunStatus s) => [s.Baseline!.OracleReward, .. s.History.Select(h => h.Eval!.OracleReward)];
        double[] a = Seed(runs[0]),
            b = Seed(runs[1]);
        // The SFT line: the two seeds' baselines averaged, as its legend says.
        Assert.Contains($"SFT (round 0): {(a[0] + b[0]) / 2:F3}, mean of 2 runs", svg.Texts);
        var line = Assert.Single(svg.Lines(Hex(0)));
        var band = Assert.Single(svg.Filled(Hex(0)));
        Assert.Equal(3, line.Count);
        double tolerance = 2 * svg.ValuePerPixel;
        for (int r = 0; r < 3; r++)
        {
            // By hand for two values: mean (a + b) / 2, sample standard deviation |a − b| / √2.
            double mean = (a[r] + b[r]) / 2,
                spread = Math.Abs(a[r] - b[r]) / Math.Sqrt(2);
            Assert.Equal(mean, svg.ValueAt(line[r].Y), tolerance);
            var column = band.Where(p => Math.Abs(p.X - line[r].X) < 0.01).Select(p => svg.ValueAt(p.Y)).ToList();
            Assert.Equal(mean + spread, column.Max(), tolerance);
            Assert.Equal(mean - spread, column.Min(), tolerance);
        }

        // Loss: rounds 1 and 2 only (SFT has no preference loss), the seeds' round means averaged.
        var loss = new SvgPlot(File.ReadAllText(Path.Combine(output, "loss.svg")));
        var lossLine = Assert.Single(loss.Lines(Hex(0)));
        Assert.Equal(2, lossLine.Count);
        for (int r = 0; r < 2; r++)
            Assert.Equal(
                (runs[0].History[r].Mean.Loss + runs[1].History[r].Mean.Loss) / 2,
                loss.ValueAt(lossLine[r].Y),
                2 * loss.ValuePerPixel
            );

        // One run, SVG only: a series under the run's own id, no band.
        string single = Path.Combine(Path.GetDirectoryName(state)!, "single");
        (code, _, stderr) = CliProcess.Run("plot", "plot-s2", "--state", state, "--out", single, "--format", "svg");
        Assert.True(code == 0, stderr);
        Assert.Empty(Directory.GetFiles(single, "*.png"));
        var one = new SvgPlot(File.ReadAllText(Path.Combine(single, "oracle_reward.svg")));
        Assert.Contains("plot-s2", one.Texts);
        Assert.Empty(one.Filled(Hex(0)));
    }

    [Fact]
    public void BadRunOrStateFailsWithOneLineAndWritesNothing()
    {
        string dir = TestConfigs.TempDirectory();
        string output = Path.Combine(dir, "plots");

        var (code, _, err) = CliProcess.Run("plot", "x", "--state", Path.Combine(dir, "missing"), "--out", output);
        Assert.Equal(2, code);
        Assert.Contains("no cluster state in", err);

        (code, _, err) = CliProcess.Run("plot", "../etc", "--state", dir, "--out", output);
        Assert.Equal(2, code);
        Assert.Contains("run_id: '../etc'", err);

        (code, _, err) = CliProcess.Run("plot", "nope", "--state", dir, "--out", output);
        Assert.Equal(2, code);
        Assert.Contains("run 'nope' does not exist", err);

        (code, _, err) = CliProcess.Run("plot", "x", "--cluster", "127.0.0.1:1", "--out", output);
        Assert.True(code is 2 or 3, $"exit {code}: {err}"); // no key (2) or nobody there (3), as `status --cluster`
        Assert.StartsWith("error: ", err);

        Assert.False(Directory.Exists(output), "a failed plot must not create its output directory");
        Assert.DoesNotContain("   at ", err); // no stack trace
    }

    [Fact]
    public void SeedSuffixesGroupIntoOneSeriesAndOtherRunsStayApart()
    {
        static RunStatus Run(string id) => new(id, RunState.Completed, 0, 0, "", [], null, null, 0, null);
        var groups = RunPlots.GroupSeeds([Run("dpo-s1"), Run("mcpo_s1"), Run("dpo-s2"), Run("solo-s3"), Run("plain")]);
        Assert.Equal(["dpo", "mcpo_s1", "solo-s3", "plain"], groups.Select(g => g.Name)); // lone seeds keep their id
        Assert.Equal(["dpo-s1", "dpo-s2"], groups[0].Runs.Select(r => r.RunId));
    }
}
