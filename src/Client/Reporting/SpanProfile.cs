using System.Collections.Concurrent;
using System.Diagnostics;
using Spectre.Console;

namespace AlignCluster.Client.Reporting;

/// <summary>
/// `--profile`: listens to the AlignCluster.* activity sources in this process and prints, per span name, how many
/// spans ended and their summed and mean duration — where a run's time goes (sft, generate, score, train, …).
/// Nested spans overlap their parents, and concurrent runs overlap each other, so the sums are per phase, not a split
/// of the wall time.
/// </summary>
public sealed class SpanProfile : IDisposable
{
    private readonly ActivityListener _listener;
    private readonly ConcurrentDictionary<string, (int Count, double Seconds)> _totals = new();

    public SpanProfile()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name.StartsWith("AlignCluster", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = activity =>
                _totals.AddOrUpdate(activity.DisplayName, (1, activity.Duration.TotalSeconds), (_, t) =>
                    (t.Count + 1, t.Seconds + activity.Duration.TotalSeconds)
                ),
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The table, longest total first (grain-call spans below 1% of the longest are left out).</summary>
    public void Print()
    {
        var rows = _totals.OrderByDescending(kv => kv.Value.Seconds).ToList();
        if (rows.Count == 0)
            return;
        double longest = rows[0].Value.Seconds;
        var table = new Table()
            .Title("time per span (summed over concurrent runs)")
            .AddColumn("span")
            .AddColumn(new TableColumn("count").RightAligned())
            .AddColumn(new TableColumn("total s").RightAligned())
            .AddColumn(new TableColumn("mean ms").RightAligned());
        foreach (var (name, (count, seconds)) in rows.Where(r => r.Value.Seconds >= 0.01 * longest))
            table.AddRow(
                Markup.Escape(name),
                count.ToString(),
                seconds.ToString("F1"),
                (1000 * seconds / count).ToString("F1")
            );
        AnsiConsole.Write(table);
    }

    public void Dispose() => _listener.Dispose();
}
