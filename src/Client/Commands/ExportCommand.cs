using System.CommandLine;
using AlignCluster.Client.Cluster;
using AlignCluster.Grains.Checkpoints;
using AlignCluster.Runtime.Storage;

namespace AlignCluster.Client.Commands;

/// <summary>`aligncluster export --run ID [--round N] --out DIR`: a checkpoint's policy as a plain Hugging Face directory.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var state = CommonOptions.State();
        var run = CommonOptions.Run();
        var round = CommonOptions.Round();
        var output = new Option<string>("--out") { Description = "Target directory (config.json + model.safetensors).", Required = true };
        var command = new Command("export", "Copy a checkpoint's policy out of the state store as a Hugging Face directory.")
        {
            state, run, round, output,
        };
        command.SetAction(async (parse, ct) => await CommandErrors.Guard(async () =>
        {
            string directory = parse.GetValue(state)!;
            if (!Directory.Exists(directory)) throw new ClientException($"no cluster state in '{Path.GetFullPath(directory)}' (pass --state DIR)");
            var checkpoints = new CheckpointStore(new LocalDirectoryStateStore(directory));
            string runId = parse.GetValue(run)!;
            var rounds = await checkpoints.RoundsAsync(runId, ct);
            int r = parse.GetValue(round) ?? (rounds.Count > 0 ? rounds[^1] : throw new ClientException($"run '{runId}' has no checkpoint in '{directory}'"));
            try { await checkpoints.ExportAsync(runId, r, parse.GetValue(output)!, ct); }
            catch (FileNotFoundException e) { throw new ClientException(e.Message); }
            Console.WriteLine($"exported {runId} round {r} to {Path.GetFullPath(parse.GetValue(output)!)}");
            return 0;
        }));
        return command;
    }
}
