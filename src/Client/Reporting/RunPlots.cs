using System.Text.RegularExpressions;
using AlignCluster.Contracts;

namespace AlignCluster.Client.Reporting;

/// <summary>Runs drawn as one series: the seeds of one method (a band of mean ± spread), or a single run.</summary>
public sealed record RunGroup(string Name, IReadOnlyList<RunStatus> Runs);

/// <summary>Mean and spread over seeds, the statistics behind every band.</summary>
public static class SeedStatistics
{
    /// <summary>Mean and sample standard deviation (n − 1; 0 for one value) of <paramref name="values"/>.</summary>
    public static (double Mean, double Spread) MeanAndSpread(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
            return (double.NaN, double.NaN);
        double mean = values.Average();
        double spread = values.Count > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1)) : 0;
        return (mean, spread);
    }

    /// <summary>
    /// One <see cref="BandPoint"/> per x that any run measured: mean and spread over the runs that have a finite value
    /// there (a run still at round 2 adds nothing to round 3, so a live plot shows what exists).
    /// </summary>
    public static List<BandPoint> Bands(IEnumerable<IEnumerable<(double X, double? Y)>> perRun) =>
        perRun
            .SelectMany(run => run)
            .Where(p => p.Y is { } y && double.IsFinite(y) && double.IsFinite(p.X))
            .GroupBy(p => p.X)
            .OrderBy(g => g.Key)
            .Select(g =>
            {
                var values = g.Select(p => p.Y!.Value).ToList();
                var (mean, spread) = MeanAndSpread(values);
                return new BandPoint(g.Key, mean, spread, values.Count);
            })
            .ToList();
}

/// <summary>
/// The plots of a set of runs, one file per metric over rounds (the demo's plots and `aligncluster plot`'s): training
/// metrics under their TRL names, the selection change rate, held-out evaluation with the SFT policy as reference.
/// </summary>
public static class RunPlots
{
    private sealed record Metric(
        string File,
        string Title,
        string YLabel,
        Func<RunStatus, IEnumerable<(int Round, double? Value)>> Points,
        Func<IReadOnlyList<RunStatus>, ReferenceLine?> Reference
    );

    /// <summary>At the SFT policy π_θ = π_ref, so every implicit reward β·log(π_θ/π_ref) is exactly 0.</summary>
    private static readonly Func<IReadOnlyList<RunStatus>, ReferenceLine?> ZeroAtSft = _ => new("SFT (round 0): 0", 0);
    private static readonly Func<IReadOnlyList<RunStatus>, ReferenceLine?> NoReference = _ => null;

    private static Func<RunStatus, IEnumerable<(int, double?)>> PerRound(Func<RoundReport, double?> value) =>
        status => status.History.Select(r => (r.Round, value(r)));

    /// <summary>A sampled evaluation counts only if the reward function rated samples (Samples 0: no value).</summary>
    private static double? Sampled(EvalResult? e, Func<EvalResult, double> value) =>
        e is { Samples: > 0 } ? value(e) : null;

    private static readonly Metric[] Metrics =
    [
        new(
            "loss",
            "Training loss",
            "loss (nats, mean over the round's steps)",
            PerRound(r => r.Mean.Loss),
            NoReference
        ),
        new(
            "rewards_chosen",
            "rewards/chosen: β·log(π/π_ref) of the chosen",
            "rewards/chosen (nats)",
            PerRound(r => r.Mean.RewardsChosen),
            ZeroAtSft
        ),
        new(
            "rewards_rejected",
            "rewards/rejected: β·log(π/π_ref) of the negatives",
            "rewards/rejected (nats)",
            PerRound(r => r.Mean.RewardsRejected),
            ZeroAtSft
        ),
        new(
            "margins",
            "rewards/margins: chosen − rejected",
            "rewards/margins (nats)",
            PerRound(r => r.Mean.RewardsMargins),
            ZeroAtSft
        ),
        new(
            "accuracies",
            "rewards/accuracies: reward(chosen) > reward(rejected)",
            "rewards/accuracies (fraction of pairs)",
            PerRound(r => r.Mean.RewardsAccuracies),
            NoReference
        ),
        new(
            "selection_change_rate",
            "Selection change rate: prompts whose negative changed",
            "change rate (fraction of prompts)",
            PerRound(r => r.SelectionChangeRate),
            NoReference
        ),
        new(
            "oracle_reward",
            "Held-out oracle reward",
            "oracle reward (mean score per sample)",
            s =>
                s.History.Select(r => (r.Round, Sampled(r.Eval, e => e.OracleReward)))
                    .Prepend((0, Sampled(s.Baseline, e => e.OracleReward))),
            runs => Baseline(runs, e => Sampled(e, x => x.OracleReward))
        ),
        new(
            "win_rate_vs_sft",
            "Adjusted win-rate against the SFT policy: (wins + ties/2) / n",
            "win-rate vs SFT (fraction of prompts)",
            PerRound(r => Sampled(r.Eval, e => e.WinRate)),
            _ => new("SFT (round 0): 0.5, a tie with itself", 0.5)
        ),
        new(
            "kl_to_sft",
            "KL divergence to the SFT policy",
            "KL(π ‖ π_SFT) (nats per sample)",
            PerRound(r => Sampled(r.Eval, e => e.KlToReference)),
            _ => new("SFT (round 0): 0", 0)
        ),
        new(
            "heldout_preference_accuracy",
            "Held-out preference accuracy (implicit reward ranks the pair)",
            "accuracy (fraction of held-out pairs)",
            s =>
                s.History.Select(r => (r.Round, r.Eval?.Preference?.Accuracy))
                    .Prepend((0, s.Baseline?.Preference?.Accuracy)),
            runs => Baseline(runs, e => e?.Preference?.Accuracy)
        ),
        new("round_seconds", "Wall time per round", "time (s)", PerRound(r => r.Seconds), NoReference),
    ];

    private static ReferenceLine? Baseline(IReadOnlyList<RunStatus> runs, Func<EvalResult?, double?> value)
    {
        var values = runs.Select(r => value(r.Baseline)).OfType<double>().Where(double.IsFinite).ToList();
        if (values.Count == 0)
            return null;
        double mean = values.Average();
        string over = values.Count > 1 ? $", mean of {values.Count} runs" : "";
        return new ReferenceLine($"SFT (round 0): {mean:F3}{over}", mean);
    }

    /// <summary>
    /// Writes one plot per metric that at least one run measured into <paramref name="directory"/>; returns the files.
    /// </summary>
    public static List<string> Write(
        string directory,
        IReadOnlyList<RunGroup> groups,
        PlotFormats formats = PlotFormats.Both
    )
    {
        var written = new List<string>();
        var allRuns = groups.SelectMany(g => g.Runs).ToList();
        foreach (var metric in Metrics)
        {
            var series = groups
                .Select(g => new PlotSeries(
                    g.Name,
                    SeedStatistics.Bands(
                        g.Runs.Select(run => metric.Points(run).Select(p => ((double)p.Round, p.Value)))
                    )
                ))
                .ToList();
            if (series.All(s => s.Points.Count == 0))
                continue;
            var plot = new LinePlot(metric.Title, "round", metric.YLabel, series, metric.Reference(allRuns));
            written.AddRange(PlotWriter.Write(Path.Combine(directory, metric.File), plot, formats));
        }
        return written;
    }

    /// <summary>
    /// Groups runs whose ids differ only in a trailing seed suffix (<c>-s2</c>, <c>_s3</c>, as the demo names them)
    /// into one series named without it; any other run (or a lone seed) is a series of its own, under its id. Order
    /// follows the first appearance.
    /// </summary>
    public static List<RunGroup> GroupSeeds(IEnumerable<RunStatus> runs) =>
        runs.GroupBy(r => SeedSuffix.Match(r.RunId) is { Success: true } m ? m.Groups[1].Value : r.RunId)
            .Select(g => g.Count() == 1 ? new RunGroup(g.First().RunId, [g.First()]) : new RunGroup(g.Key, g.ToList()))
            .ToList();

    private static readonly Regex SeedSuffix = new(@"^(.+)[-_]s\d+$", RegexOptions.CultureInvariant);
}
