using System.CommandLine;
using AlignCluster.Client.Cluster;
using AlignCluster.Client.Reporting;
using AlignCluster.Contracts;
using AlignCluster.Grains.Configuration;

namespace AlignCluster.Client.Commands;

/// <summary>
/// `aligncluster plot RUN [RUN…] [--out DIR] [--format png|svg|both] [--cluster host:port]`: a run's curves over
/// rounds, during or after it, read the way `status --run` reads them (the coordinator grain's history). Runs whose ids
/// differ only in a seed suffix (<c>-s1</c>, <c>-s2</c>) become one series with a band of mean ± spread.
/// </summary>
internal static class PlotCommand
{
    public static Command Create()
    {
        var state = CommonOptions.State();
        var cluster = CommonOptions.Cluster();
        var runs = new Argument<string[]>("RUN")
        {
            Description = "Run id(s); ids that differ only in a trailing -sN / _sN are seeds of one series.",
            Arity = ArgumentArity.OneOrMore,
        };
        var output = new Option<string>("--out")
        {
            Description = "Directory for the plots (one file per metric).",
            DefaultValueFactory = _ => "plots",
        };
        var format = new Option<PlotFormats>("--format")
        {
            Description = "png, svg or both.",
            DefaultValueFactory = _ => PlotFormats.Both,
        };
        var command = new Command("plot", "Plot runs' curves over rounds (PNG/SVG), while they run or after.")
        {
            runs,
            state,
            cluster,
            CommonOptions.Certificate,
            output,
            format,
        };
        command.SetAction(
            async (parse, ct) =>
                await CommandErrors.Guard(async () =>
                {
                    var ids = parse.GetValue(runs)!.Distinct().ToList();
                    // The run_id rule of a config (one home for it), so a path-like id never reaches the store.
                    foreach (var id in ids)
                        if (
                            RunConfigLoader
                                .Validate(new RunConfig { RunId = id })
                                .FirstOrDefault(e => e.StartsWith("run_id:", StringComparison.Ordinal)) is
                            { } bad
                        )
                            throw new ClientException(bad);
                    var statuses = parse.GetValue(cluster) is { Length: > 0 } gateways
                        ? await FromClusterAsync(gateways, ids, ct)
                        : await FromStateAsync(parse.GetValue(state)!, ids);
                    string directory = parse.GetValue(output)!;
                    var groups = RunPlots.GroupSeeds(statuses);
                    var files = RunPlots.Write(directory, groups, parse.GetValue(format));
                    foreach (var s in statuses)
                        Console.WriteLine($"{s.RunId}: {s.State}, round {s.Round}/{s.TotalRounds}");
                    Console.WriteLine(
                        $"wrote {files.Count} file(s), {groups.Count} series, to {Path.GetFullPath(directory)}"
                    );
                    return 0;
                })
        );
        return command;
    }

    /// <summary>As `status --run` on the embedded cluster: read-only (no resume), unknown runs named.</summary>
    private static async Task<List<RunStatus>> FromStateAsync(string directory, IReadOnlyList<string> ids)
    {
        EmbeddedCluster.RequireExisting(directory);
        await using var embedded = await EmbeddedCluster.StartAsync(directory, autoResume: false);
        var index = embedded.Runs;
        var statuses = new List<RunStatus>();
        foreach (var id in ids)
        {
            if (await index.GetAsync(id) is null)
                throw new ClientException($"run '{id}' does not exist in {index.Name}");
            statuses.Add(await embedded.Client.GetGrain<ICoordinatorGrain>(id).GetStatusAsync());
        }
        return statuses;
    }

    private static async Task<List<RunStatus>> FromClusterAsync(
        string[] gateways,
        IReadOnlyList<string> ids,
        CancellationToken ct
    )
    {
        await using var remote = await RemoteCluster.ConnectAsync(gateways, ct: ct);
        var statuses = new List<RunStatus>();
        foreach (var id in ids)
            statuses.Add(await RemoteCommands.GetRunAsync(remote, id));
        return statuses;
    }
}
