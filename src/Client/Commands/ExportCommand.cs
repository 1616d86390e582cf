using System.CommandLine;
using AlignCluster.Client.Cluster;
using AlignCluster.Client.Reporting;
using AlignCluster.Contracts;
using AlignCluster.Grains.Checkpoints;
using AlignCluster.Grains.Hosting;
using AlignCluster.Hosting.Checkpoints;

namespace AlignCluster.Client.Commands;

/// <summary>
/// `aligncluster export --run ID [--round N] --out DIR [--cluster host:port]`: a checkpoint's policy as a plain Hugging
/// Face directory — read from the local state store, or with --cluster from the silos' store through the run's
/// coordinator grain (the client need not reach that store itself).
/// </summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var state = CommonOptions.State();
        var cluster = CommonOptions.Cluster();
        var run = CommonOptions.Run();
        var round = CommonOptions.Round();
        var output = new Option<string>("--out")
        {
            Description = "Target directory (config.json + model.safetensors).",
            Required = true,
        };
        var command = new Command(
            "export",
            "Copy a checkpoint's policy out of the state store (or the cluster's) as a Hugging Face directory."
        )
        {
            state,
            cluster,
            CommonOptions.Certificate,
            run,
            round,
            output,
        };
        command.SetAction(
            async (parse, ct) =>
                await CommandErrors.Guard(async () =>
                {
                    string runId = parse.GetValue(run)!,
                        target = parse.GetValue(output)!;
                    if (File.Exists(target))
                        throw new ClientException($"--out: '{target}' is a file; name a directory");
                    int exported;
                    using var progress = ProgressLine.ForStandardError();
                    // Plain output: a line per file; a terminal: one line with the bytes of the whole export.
                    void Copied(ExportedPolicy p, ExportedFile file, long done) =>
                        progress.Update(
                            $"export {p.RunId} round {p.Round}: {file.Name} ({file.Length / 1048576.0:F1} MiB)",
                            ProgressText.Bytes(done, p.Files.Sum(f => f.Length))
                        );
                    try
                    {
                        exported = parse.GetValue(cluster) is { Length: > 0 } gateways
                            ? await FromClusterAsync(gateways, runId, parse.GetValue(round), target, Copied, ct)
                            : await FromStateAsync(
                                parse.GetValue(state)!,
                                runId,
                                parse.GetValue(round),
                                target,
                                Copied,
                                ct
                            );
                        progress.Done();
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        throw new ClientException($"--out: cannot write '{target}': {e.Message}");
                    }
                    Console.WriteLine($"exported {runId} round {exported} to {Path.GetFullPath(target)}");
                    return 0;
                })
        );
        return command;
    }

    private static async Task<int> FromStateAsync(
        string directory,
        string runId,
        int? round,
        string target,
        Action<ExportedPolicy, ExportedFile, long> copied,
        CancellationToken ct
    )
    {
        EmbeddedCluster.RequireExisting(directory, $"run '{runId}' does not exist");
        var checkpoints = new CheckpointStore(new LocalCheckpointStorage(ClusterSetup.CheckpointDirectory(directory)));
        var rounds = await checkpoints.RoundsAsync(runId, ct);
        int r = round
            ?? (
                rounds.Count > 0
                    ? rounds[^1]
                    : throw new ClientException($"run '{runId}' has no checkpoint in '{directory}'")
            );
        try
        {
            await checkpoints.ExportAsync(runId, r, target, ct, copied);
        }
        catch (FileNotFoundException e)
        {
            throw new ClientException(e.Message);
        }
        return r;
    }

    /// <summary>
    /// As `eval --cluster`: a run the cluster never started is named; a refused export (no such checkpoint) is bad
    /// input.
    /// The files come in chunks through the coordinator, so the client need not reach the silos' checkpoint store.
    /// </summary>
    private static async Task<int> FromClusterAsync(
        string[] gateways,
        string runId,
        int? round,
        string target,
        Action<ExportedPolicy, ExportedFile, long> copied,
        CancellationToken ct
    )
    {
        await using var remote = await RemoteCluster.ConnectAsync(gateways, ct: ct);
        var coordinator = await RemoteCommands.ExistingRunAsync(remote, runId);
        ExportedPolicy policy;
        try
        {
            policy = await RemoteCommands.Translate(() => coordinator.ExportCheckpointAsync(round), remote);
        }
        catch (ArgumentException e)
        {
            throw new ClientException(e.Message);
        }
        await CheckpointStore.WriteExportAsync(
            policy,
            target,
            (key, offset) =>
                RemoteCommands.Translate(
                    () => coordinator.ReadCheckpointChunkAsync(key, offset, CheckpointStore.MaxChunk),
                    remote
                ),
            ct,
            copied
        );
        return policy.Round;
    }
}
