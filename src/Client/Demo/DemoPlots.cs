using AlignCluster.Client.Reporting;
using AlignCluster.Contracts;

namespace AlignCluster.Client.Demo;

/// <summary>The demo's curves (<see cref="RunPlots"/>): a series per method, seeds as a band (mean ± spread).</summary>
public static class DemoPlots
{
    /// <summary>Writes every plot (PNG and SVG) into <paramref name="directory"/>; returns the files written.</summary>
    public static List<string> Write(string directory, IReadOnlyList<(DemoMethod Method, RunStatus Status)> runs) =>
        RunPlots.Write(
            directory,
            runs.GroupBy(r => r.Method.Name).Select(g => new RunGroup(g.Key, g.Select(r => r.Status).ToList())).ToList()
        );
}
