using System.CommandLine;
using AlignCluster.Client.Cluster;
using AlignCluster.Grains.Checkpoints;
using AlignCluster.Grains.Demo;
using AlignCluster.Grains.Services;
using AlignCluster.Interfaces;
using Spectre.Console;

namespace AlignCluster.Client.Commands;

/// <summary>`aligncluster eval --run ID [--round N]`: held-out evaluation of a checkpoint against the run's reference.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var state = CommonOptions.State();
        var cluster = CommonOptions.Cluster();
        var run = CommonOptions.Run();
        var round = CommonOptions.Round();
        var command = new Command("eval", "Evaluate a run's checkpoint on its held-out prompts (oracle reward, win-rate and KL vs the reference).")
        {
            state, cluster, run, round,
        };
        command.SetAction(async (parse, ct) => await CommandErrors.Guard(async () =>
        {
            CommonOptions.RejectCluster(parse.GetValue(cluster));
            await using var embedded = await EmbeddedCluster.StartAsync(parse.GetValue(state)!, autoResume: false);
            string runId = parse.GetValue(run)!;
            var config = await new RunIndex(embedded.Store).GetAsync(runId)
                ?? throw new ClientException($"run '{runId}' does not exist in {embedded.Store.Name}");
            var rounds = await new CheckpointStore(embedded.Store).RoundsAsync(runId);
            int r = parse.GetValue(round) ?? (rounds.Count > 0 ? rounds[^1] : throw new ClientException($"run '{runId}' has no checkpoint yet"));
            // A separate trainer activation: evaluation never disturbs the run's own trainer.
            var trainer = embedded.Client.GetGrain<ITrainerGrain>($"{runId}/eval");
            if (!await trainer.RestoreAsync(runId, r))
                throw new ClientException($"run '{runId}' has no complete checkpoint for round {r} (available: {string.Join(", ", rounds)})");
            var prompts = TaskData.For(config.Data, config.Seed).EvalPrompts;
            var result = await PolicyEvaluation.EvaluateAsync(trainer, RewardFunctions.Create(config.Reward), prompts, config, ct);
            var table = new Table().Title($"{Markup.Escape(runId)}, checkpoint of round {r}").Border(TableBorder.Rounded)
                .AddColumn("held-out prompts").AddColumn("samples").AddColumn("oracle reward").AddColumn("reference reward")
                .AddColumn("win-rate vs reference").AddColumn("KL to reference");
            table.AddRow(prompts.Length.ToString(), result.Samples.ToString(), $"{result.OracleReward:F3}", $"{result.ReferenceOracleReward:F3}",
                $"{result.WinRate:F3}", $"{result.KlToReference:F3}");
            AnsiConsole.Write(table);
            return 0;
        }));
        return command;
    }
}
