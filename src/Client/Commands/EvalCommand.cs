using System.CommandLine;
using AlignCluster.Client.Cluster;
using AlignCluster.Client.Reporting;
using AlignCluster.Contracts;
using Spectre.Console;

namespace AlignCluster.Client.Commands;

/// <summary>
/// `aligncluster eval --run ID [--round N] [--cluster host:port]`: held-out evaluation of a checkpoint against the
/// run's reference. The run's coordinator grain does it (it holds the config and the held-out prompts), in a trainer
/// activation of its own, on the embedded cluster or on running silos.
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var state = CommonOptions.State();
        var cluster = CommonOptions.Cluster();
        var run = CommonOptions.Run();
        var round = CommonOptions.Round();
        var command = new Command(
            "eval",
            "Evaluate a run's checkpoint on its held-out prompts (oracle reward, win-rate and KL vs the "
                + "reference; preference accuracy for preference files)."
        )
        {
            state,
            cluster,
            CommonOptions.Certificate,
            run,
            round,
        };
        command.SetAction(
            async (parse, ct) =>
                await CommandErrors.Guard(async () =>
                {
                    string runId = parse.GetValue(run)!;
                    int? r = parse.GetValue(round);
                    CheckpointEval result;
                    // One grain call restores the checkpoint, samples and rates: the line shows how long it has been
                    // going.
                    using var progress = ProgressLine.ForStandardError();
                    string doing =
                        $"eval {runId}: {(r is { } n ? $"checkpoint of round {n}" : "newest checkpoint")} on the "
                        + "held-out prompts";
                    if (parse.GetValue(cluster) is { Length: > 0 } gateways)
                    {
                        await using var remote = await RemoteCluster.ConnectAsync(gateways, ct: ct);
                        var coordinator = await RemoteCommands.ExistingRunAsync(remote, runId);
                        result = await progress.TimeAsync(doing, () =>
                            Evaluate(() =>
                                RemoteCommands.Translate(() => coordinator.EvaluateCheckpointAsync(r), remote)
                            )
                        );
                    }
                    else
                    {
                        EmbeddedCluster.RequireExisting(parse.GetValue(state)!, $"run '{runId}' does not exist");
                        await using var embedded = await EmbeddedCluster.StartAsync(
                            parse.GetValue(state)!,
                            autoResume: false
                        );
                        if (await embedded.Runs.GetAsync(runId) is null)
                            throw new ClientException($"run '{runId}' does not exist in {embedded.Runs.Name}");
                        result = await progress.TimeAsync(doing, () =>
                            Evaluate(() =>
                                embedded.Client.GetGrain<ICoordinatorGrain>(runId).EvaluateCheckpointAsync(r)
                            )
                        );
                    }
                    Print(result);
                    return 0;
                })
        );
        return command;
    }

    /// <summary>A refused evaluation (no such checkpoint) is bad input, not a crash.</summary>
    private static async Task<CheckpointEval> Evaluate(Func<Task<CheckpointEval>> call)
    {
        try
        {
            return await call();
        }
        catch (ArgumentException e)
        {
            throw new ClientException(e.Message);
        }
    }

    /// <summary>One table: the sampled evaluation when the reward applies, and the preference accuracy when the run has
    /// held-out pairs.</summary>
    public static void Print(CheckpointEval eval)
    {
        var e = eval.Result;
        var table = new Table()
            .Title($"{Markup.Escape(eval.RunId)}, checkpoint of round {eval.Round}")
            .Border(TableBorder.Rounded)
            .AddColumn("held-out prompts")
            .AddColumn("samples")
            .AddColumn("oracle reward")
            .AddColumn("reference reward")
            .AddColumn("win-rate vs reference")
            .AddColumn("KL to reference");
        bool sampled = e.Samples > 0;
        string Value(double v) => sampled ? $"{v:F3}" : "n/a";
        table.AddRow(
            eval.HeldOutPrompts.ToString(),
            e.Samples.ToString(),
            Value(e.OracleReward),
            Value(e.ReferenceOracleReward),
            Value(e.WinRate),
            Value(e.KlToReference)
        );
        AnsiConsole.Write(table);
        if (!sampled)
            Console.WriteLine(
                "no sampled evaluation: the reward rule reads the toy vocabulary, not this policy's tokens "
                    + "(reward.kind http or model rates any policy)"
            );
        if (e.Preference is { } p)
            Console.WriteLine(
                $"preference accuracy {p.Accuracy:F3} over {p.Pairs} held-out (chosen, rejected) pairs; implicit "
                    + $"reward β={p.Beta:G3}: "
                    + $"chosen {p.MeanChosenReward:F4}, rejected {p.MeanRejectedReward:F4}, margin {p.MeanMargin:F4}"
            );
    }
}
