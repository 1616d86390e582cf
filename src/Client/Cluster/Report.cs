using AlignCluster.Client.Demo;
using AlignCluster.Interfaces;
using Spectre.Console;

namespace AlignCluster.Client.Cluster;

/// <summary>Summary tables printed at the end of demo and train.</summary>
public static class Report
{
    public static void PrintResults(DemoOutcome outcome)
    {
        var baseline = outcome.Runs.Select(r => r.Status.Baseline?.OracleReward).Where(v => v is not null).Select(v => v!.Value).DefaultIfEmpty(double.NaN).Average();
        var table = new Table().Title("Held-out oracle reward after preference training").Border(TableBorder.Rounded)
            .AddColumn("method").AddColumn(new TableColumn("seeds").RightAligned()).AddColumn(new TableColumn("oracle reward (mean ± std)").RightAligned())
            .AddColumn(new TableColumn("win-rate vs SFT").RightAligned()).AddColumn(new TableColumn("KL to SFT").RightAligned());
        var best = outcome.Results.Methods.MaxBy(m => m.OracleRewardMean)?.Name;
        foreach (var m in outcome.Results.Methods)
        {
            string name = m.Name == best ? $"[bold green]{m.Name}[/]" : m.Name;
            table.AddRow(name, m.Seeds.ToString(), $"{m.OracleRewardMean:F3} ± {m.OracleRewardStd:F3}", $"{m.WinRateVsSft:F3}", $"{m.KlToSft:F3}");
        }
        table.Caption($"SFT policy (reference): oracle reward {baseline:F3}, averaged over seeds");
        AnsiConsole.Write(table);
        foreach (var file in outcome.Files) AnsiConsole.MarkupLine($"  wrote [blue]{Markup.Escape(file)}[/]");
        AnsiConsole.MarkupLine($"Wall time: {outcome.Elapsed.TotalSeconds:F1} s");
    }

    public static void PrintRun(RunStatus status)
    {
        var table = new Table().Title($"Run {Markup.Escape(status.RunId)}: {status.State}").Border(TableBorder.Rounded)
            .AddColumn(new TableColumn("round").RightAligned()).AddColumn(new TableColumn("loss").RightAligned())
            .AddColumn(new TableColumn("rewards/margins").RightAligned()).AddColumn(new TableColumn("rewards/accuracies").RightAligned())
            .AddColumn(new TableColumn("selection change").RightAligned()).AddColumn(new TableColumn("oracle reward").RightAligned())
            .AddColumn(new TableColumn("win-rate vs SFT").RightAligned()).AddColumn(new TableColumn("KL to SFT").RightAligned())
            .AddColumn(new TableColumn("seconds").RightAligned());
        if (status.Baseline is { } b)
            table.AddRow("0 (SFT)", "", "", "", "", $"{b.OracleReward:F3}", "", "", "");
        foreach (var r in status.History)
            table.AddRow(r.Round.ToString(), $"{r.Mean.Loss:F4}", $"{r.Mean.RewardsMargins:F4}", $"{r.Mean.RewardsAccuracies:F3}",
                $"{r.SelectionChangeRate:F3}", r.Eval is { } e ? $"{e.OracleReward:F3}" : "", r.Eval is { } w ? $"{w.WinRate:F3}" : "",
                r.Eval is { } k ? $"{k.KlToReference:F3}" : "", $"{r.Seconds:F1}");
        AnsiConsole.Write(table);
        if (status.Error is not null) AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(status.Error)}");
    }
}
