using AlignCluster.Client.Reporting;
using AlignCluster.Interfaces;

namespace AlignCluster.Client.Demo;

/// <summary>The demo's curves, one line per method (mean over seeds at each round), as SVG + PNG via <see cref="PlotWriter"/>.</summary>
public static class DemoPlots
{
    private static readonly (string File, string Title, string YLabel, Func<RoundReport, double?> Value)[] PerRound =
    [
        ("loss", "Training loss", "loss", r => r.Mean.Loss),
        ("rewards_chosen", "rewards/chosen (β·ρ of the chosen)", "rewards/chosen", r => r.Mean.RewardsChosen),
        ("rewards_rejected", "rewards/rejected (β·ρ of the negatives)", "rewards/rejected", r => r.Mean.RewardsRejected),
        ("margins", "rewards/margins", "rewards/margins", r => r.Mean.RewardsMargins),
        ("selection_change_rate", "Selection change rate (prompts whose negative changed)", "fraction", r => r.SelectionChangeRate),
    ];

    /// <summary>Writes every plot into <paramref name="directory"/>; returns the files written (PNG where converted, else SVG).</summary>
    public static List<string> Write(string directory, IReadOnlyList<(DemoMethod Method, RunStatus Status)> runs, TextWriter? log = null)
    {
        var written = new List<string>();
        foreach (var (file, title, yLabel, value) in PerRound)
            written.Add(Plot(directory, file, title, yLabel, runs, status => status.History.Select(r => (r.Round, value(r))), log));
        written.Add(Plot(directory, "oracle_reward", "Held-out oracle reward (round 0 = SFT)", "oracle reward", runs,
            status => status.History.Select(r => (r.Round, r.Eval?.OracleReward)).Prepend((0, status.Baseline?.OracleReward)), log));
        return written;
    }

    private static string Plot(string directory, string file, string title, string yLabel,
        IReadOnlyList<(DemoMethod Method, RunStatus Status)> runs, Func<RunStatus, IEnumerable<(int Round, double? Value)>> points, TextWriter? log)
    {
        var series = runs.GroupBy(r => r.Method.Name).Select(g => new Series(g.Key, g
            .SelectMany(r => points(r.Status))
            .Where(p => p.Value is { } v && double.IsFinite(v))
            .GroupBy(p => p.Round)
            .OrderBy(p => p.Key)
            .Select(p => ((double)p.Key, p.Average(x => x.Value!.Value)))
            .ToList())).ToList();
        string path = Path.Combine(directory, file);
        return PlotWriter.WriteLinePlot(path, title, "round", yLabel, series, log) ?? path + ".svg";
    }
}
