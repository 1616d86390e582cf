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

    private static string Accuracy(EvalResult? e) => e?.Preference is { } p ? $"{p.Accuracy:F3}" : "";

    public static void PrintRun(RunStatus status)
    {
        var table = new Table().Title($"Run {Markup.Escape(status.RunId)}: {status.State}").Border(TableBorder.Rounded)
            .AddColumn(new TableColumn("round").RightAligned()).AddColumn(new TableColumn("loss").RightAligned())
            .AddColumn(new TableColumn("rewards/margins").RightAligned()).AddColumn(new TableColumn("rewards/accuracies").RightAligned())
            .AddColumn(new TableColumn("selection change").RightAligned()).AddColumn(new TableColumn("oracle reward").RightAligned())
            .AddColumn(new TableColumn("win-rate vs SFT").RightAligned()).AddColumn(new TableColumn("KL to SFT").RightAligned())
            .AddColumn(new TableColumn("seconds").RightAligned());
        // Samples == 0: the reward function could not rate this policy's texts, so nothing was measured (not a 0).
        static string Sampled(EvalResult? e, Func<EvalResult, double> value) => e is null ? "" : e.Samples == 0 ? "n/a" : $"{value(e):F3}";
        bool preference = status.History.Any(r => r.Eval?.Preference is not null);
        if (preference) table.AddColumn(new TableColumn("held-out pref. accuracy").RightAligned());
        void Row(EvalResult? eval, params string[] cells) => table.AddRow(preference ? cells.Append(Accuracy(eval)).ToArray() : cells);
        if (status.Baseline is { } b)
            Row(b, "0 (SFT)", "", "", "", "", Sampled(b, e => e.OracleReward), "", "", "");
        foreach (var r in status.History)
            Row(r.Eval, r.Round.ToString(), $"{r.Mean.Loss:F4}", $"{r.Mean.RewardsMargins:F4}", $"{r.Mean.RewardsAccuracies:F3}",
                $"{r.SelectionChangeRate:F3}", Sampled(r.Eval, e => e.OracleReward), Sampled(r.Eval, e => e.WinRate),
                Sampled(r.Eval, e => e.KlToReference), $"{r.Seconds:F1}");
        AnsiConsole.Write(table);
        if (status.History.LastOrDefault(r => r.Eval?.Preference is not null)?.Eval?.Preference is { } p)
            Console.WriteLine($"held-out preferences: accuracy {p.Accuracy:F3} over {p.Pairs} (chosen, rejected) pairs, implicit reward margin {p.MeanMargin:F4} (β={p.Beta:G3})");
        if (status.Error is not null) AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(status.Error)}");
    }
}
