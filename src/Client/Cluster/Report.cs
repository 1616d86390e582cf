using AlignCluster.Client.Demo;
using AlignCluster.Contracts;
using Spectre.Console;

namespace AlignCluster.Client.Cluster;

/// <summary>Summary tables printed at the end of demo and train.</summary>
public static class Report
{
    public static void PrintResults(DemoOutcome outcome)
    {
        var baseline = outcome
            .Runs.Select(r => r.Status.Baseline?.OracleReward)
            .Where(v => v is not null)
            .Select(v => v!.Value)
            .DefaultIfEmpty(double.NaN)
            .Average();
        var table = new Table()
            .Title("Held-out oracle reward after preference training")
            .Border(TableBorder.Rounded)
            .AddColumn("method")
            .AddColumn(new TableColumn("seeds").RightAligned())
            .AddColumn(new TableColumn("oracle reward (mean ± std)").RightAligned())
            .AddColumn(new TableColumn("win-rate vs SFT").RightAligned())
            .AddColumn(new TableColumn("KL to SFT").RightAligned());
        var best = outcome.Results.Methods.MaxBy(m => m.OracleRewardMean)?.Name;
        foreach (var m in outcome.Results.Methods)
        {
            string name = m.Name == best ? $"[bold green]{m.Name}[/]" : m.Name;
            table.AddRow(
                name,
                m.Seeds.ToString(),
                m.Seeds > 1 ? $"{m.OracleRewardMean:F3} ± {m.OracleRewardStd:F3}" : $"{m.OracleRewardMean:F3} (1 seed)",
                $"{m.WinRateVsSft:F3}",
                $"{m.KlToSft:F3}"
            );
        }
        table.Caption($"SFT policy (reference): oracle reward {baseline:F3}, averaged over seeds");
        AnsiConsole.Write(table);
        foreach (var file in outcome.Files)
            AnsiConsole.MarkupLine($"  wrote [blue]{Markup.Escape(file)}[/]");
        AnsiConsole.MarkupLine($"Wall time: {outcome.Elapsed.TotalSeconds:F1} s");
    }

    private static string Accuracy(EvalResult? e) => e?.Preference is { } p ? $"{p.Accuracy:F3}" : "";

    public static void PrintRun(RunStatus status)
    {
        var evals = status.History.Select(r => r.Eval).Prepend(status.Baseline).OfType<EvalResult>().ToList();
        // Samples == 0: the reward function could not rate this policy's texts (an hf policy with a toy rule), so the
        // sampled columns are left out rather than shown as zeros; preference files add the held-out accuracy.
        bool sampled = evals.Count == 0 || evals.Any(e => e.Samples > 0);
        bool preference = evals.Any(e => e.Preference is not null);
        var table = new Table().Title($"Run {Markup.Escape(status.RunId)}: {status.State}").Border(TableBorder.Rounded);
        var columns = new List<string> { "round", "loss", "rewards/margins", "rewards/accuracies", "selection change" };
        if (sampled)
            columns.AddRange(["oracle reward", "win-rate vs SFT", "KL to SFT"]);
        if (preference)
            columns.Add("held-out pref. accuracy");
        columns.Add("seconds");
        foreach (var c in columns)
            table.AddColumn(new TableColumn(c).RightAligned());
        static string Sampled(EvalResult? e, Func<EvalResult, double> value) =>
            e is null ? ""
            : e.Samples == 0 ? "n/a"
            : $"{value(e):F3}";
        void Row(EvalResult? eval, bool baseline, string[] training, string seconds)
        {
            var cells = new List<string>(training);
            if (sampled)
                cells.AddRange([
                    Sampled(eval, e => e.OracleReward),
                    baseline ? "" : Sampled(eval, e => e.WinRate),
                    baseline ? "" : Sampled(eval, e => e.KlToReference),
                ]);
            if (preference)
                cells.Add(Accuracy(eval));
            cells.Add(seconds);
            table.AddRow(cells.ToArray());
        }
        if (status.Baseline is { } b)
            Row(b, baseline: true, ["0 (SFT)", "", "", "", ""], "");
        foreach (var r in status.History)
            Row(
                r.Eval,
                baseline: false,
                [
                    r.Round.ToString(),
                    $"{r.Mean.Loss:F4}",
                    $"{r.Mean.RewardsMargins:F4}",
                    $"{r.Mean.RewardsAccuracies:F3}",
                    $"{r.SelectionChangeRate:F3}",
                ],
                $"{r.Seconds:F1}"
            );
        AnsiConsole.Write(table);
        if (status.History.LastOrDefault(r => r.Eval?.Preference is not null)?.Eval?.Preference is { } p)
            Console.WriteLine(
                $"held-out preferences: accuracy {p.Accuracy:F3} over {p.Pairs} (chosen, rejected) pairs, "
                    + $"implicit reward margin {p.MeanMargin:F4} (β={p.Beta:G3})"
            );
        if (status.Restarts > 0)
            Console.WriteLine(
                $"restarts: {status.Restarts} round(s) retried from the last checkpoint after a failure "
                    + "(checkpoint.restarts)"
            );
        if (status.Error is not null)
            AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(status.Error)}");
    }
}
