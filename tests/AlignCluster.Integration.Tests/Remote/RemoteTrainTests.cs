using System.Diagnostics;
using AlignCluster.Client.Cluster;
using AlignCluster.Grains.Configuration;
using AlignCluster.Integration.Tests.Cluster;
using AlignCluster.Interfaces;

namespace AlignCluster.Integration.Tests.Remote;

/// <summary>Silo processes are heavy on a 2-core machine: these tests run alone, not beside other test classes.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RemoteCollection
{
    public const string Name = "remote silos";
}

/// <summary>
/// `aligncluster train/status --cluster` as a user runs them (the built client as a subprocess) against a silo
/// process started by deploy/local/cluster.sh.
/// </summary>
[Collection(RemoteCollection.Name)]
public sealed class RemoteTrainTests(LocalSilos silos) : IClassFixture<LocalSilos>
{
    private static (int Code, string Out, string Err) Cli(params string[] args) => CliProcess.Run(args);

    [Fact]
    public async Task Train_on_the_cluster_runs_to_completion_and_status_reports_it()
    {
        const int rounds = 2;   // the configured number the run must finish with
        string dir = TestConfigs.TempDirectory();
        string config = Path.Combine(dir, "run.yaml");
        File.WriteAllText(config, RunConfigLoader.ToYaml(TestConfigs.Tiny("remote-e2e", rounds: rounds)));

        // Gateways comma-separated here, repeated below: both spellings are accepted.
        var (code, output, err) = Cli("train", "--cluster", string.Join(",", silos.Gateways), "--config", config);
        Assert.True(code == 0, $"train --cluster failed ({code}): {err}\n{output}");
        Assert.Contains($"round {rounds}/{rounds}", err);   // progress goes to stderr
        Assert.Contains("Run remote-e2e: Completed", output);

        string[] cluster = [.. silos.Gateways.SelectMany(g => new[] { "--cluster", g })];
        (code, output, err) = Cli(["status", .. cluster, "--run", "remote-e2e"]);
        Assert.True(code == 0, $"status --cluster failed ({code}): {err}\n{output}");
        Assert.Contains("1 active silo(s) of 1", output);
        Assert.Contains("Run remote-e2e: Completed", output);

        // The coordinator's own record, read over a separate connection: completed with exactly the configured rounds.
        await using var remote = await RemoteCluster.ConnectAsync(silos.Gateways);
        var status = await remote.Client.GetGrain<ICoordinatorGrain>("remote-e2e").GetStatusAsync();
        Assert.Equal(RunState.Completed, status.State);
        Assert.Equal(rounds, status.Round);
        Assert.Equal(Enumerable.Range(1, rounds), status.History.Select(h => h.Round));
    }

    [Fact]
    public void Resuming_a_run_the_cluster_never_started_is_refused_and_records_nothing()
    {
        // It used to wait forever at "round 0/0 (created)" and leave a coordinator record for the name behind.
        var (code, output, err) = Cli("train", "--cluster", silos.Gateways[0], "--resume", "--run", "ghost-run");
        Assert.True(code == 2, $"exit {code}: {err}\n{output}");
        Assert.Contains("error: run 'ghost-run' does not exist", err);
        Assert.DoesNotContain("   at ", err);
        var records = System.IO.Directory.GetFiles(silos.Directory, "*", SearchOption.AllDirectories)
            // Temp files live in dot folders; grain state is one file per grain (none may exist for the name).
            .Where(f => f.Contains("ghost-run") && !f.Contains("/.") && !f.Contains("/directory/")).ToList();
        Assert.True(records.Count == 0, $"records left for the run: {string.Join(", ", records)}");

        (code, _, err) = Cli("status", "--cluster", silos.Gateways[0], "--run", "ghost-run");
        Assert.Equal(2, code);
        Assert.Contains("run 'ghost-run' does not exist on the cluster", err);
    }

    [Fact]
    public void An_unreachable_gateway_is_named_with_exit_code_3()
    {
        string nobody = $"127.0.0.1:{silos.BasePort + 50}";   // inside no silo's range: nothing listens there
        var (code, _, err) = Cli("status", "--cluster", nobody);
        Assert.Equal(3, code);
        Assert.Contains($"cannot connect to the cluster at {nobody}", err);
        Assert.DoesNotContain("   at ", err);
    }
}
