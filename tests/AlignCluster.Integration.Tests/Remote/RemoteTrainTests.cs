using System.Diagnostics;
using System.Text.Json;
using AlignCluster.Client.Cluster;
using AlignCluster.Contracts;
using AlignCluster.Grains.Configuration;
using AlignCluster.Hosting.Security;
using AlignCluster.Integration.Tests.Cluster;

namespace AlignCluster.Integration.Tests.Remote;

/// <summary>Silo processes are heavy on a 2-core machine: these tests run alone, not beside other test
/// classes.</summary>
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
    private (int Code, string Out, string Err) Cli(params string[] args) => silos.Cli(args);

    [Fact]
    public async Task Train_on_the_cluster_runs_to_completion_and_status_reports_it()
    {
        const int rounds = 2; // the configured number the run must finish with
        string dir = TestConfigs.TempDirectory();
        string config = Path.Combine(dir, "run.yaml");
        File.WriteAllText(config, RunConfigLoader.ToYaml(TestConfigs.Tiny("remote-e2e", rounds: rounds)));

        // Gateways comma-separated here, repeated below: both spellings are accepted.
        var (code, output, err) = Cli("train", "--cluster", string.Join(",", silos.Gateways), "--config", config);
        Assert.True(code == 0, $"train --cluster failed ({code}): {err}\n{output}");
        Assert.Contains($"round {rounds}/{rounds}", err); // progress goes to stderr
        Assert.Contains("Run remote-e2e: Completed", output);
        // Piped output is plain text, not wrapped: no escape codes, and the history table's header on one line
        // (Spectre.Console assumed 80 columns for a pipe and split it, and numbers with it, over several lines).
        Assert.DoesNotContain('\u001b', output);
        string header = output.Split('\n').Single(l => l.Contains("rewards/margins"));
        Assert.Contains("seconds", header);
        Assert.True(header.Length > 80, $"the header is {header.Length} characters: it could not show wrapping");

        string[] cluster = [.. silos.Gateways.SelectMany(g => new[] { "--cluster", g })];
        (code, output, err) = Cli(["status", .. cluster, "--run", "remote-e2e"]);
        Assert.True(code == 0, $"status --cluster failed ({code}): {err}\n{output}");
        Assert.Contains("1 active silo(s) of 1", output);
        Assert.Contains("Run remote-e2e: Completed", output);

        // The coordinator's own record, read over a separate connection: completed with exactly the configured rounds.
        await using var remote = await silos.ConnectAsync();
        var status = await remote.Client.GetGrain<ICoordinatorGrain>("remote-e2e").GetStatusAsync();
        Assert.Equal(RunState.Completed, status.State);
        Assert.Equal(rounds, status.Round);
        Assert.Equal(Enumerable.Range(1, rounds), status.History.Select(h => h.Round));

        // Where the run is: one silo, so coordinator and trainer are on it (the management grain lists it).
        var silo = Assert.Single(await remote.Client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)).Key;
        Assert.Contains($"placement: coordinator on {silo}; trainer-0 on {silo}", output);
        Assert.Contains("recovery: 0 round(s) restarted from a checkpoint after a failure", output);

        // --json: the same facts, machine-readable, checked against the coordinator's record read above.
        (code, output, err) = Cli(["status", .. cluster, "--run", "remote-e2e", "--json"]);
        Assert.True(code == 0, $"status --json failed ({code}): {err}\n{output}");
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.Equal("remote", root.GetProperty("cluster").GetProperty("mode").GetString());
        var listed = Assert.Single(root.GetProperty("cluster").GetProperty("silos").EnumerateArray());
        Assert.Equal(silo.ToString(), listed.GetProperty("address").GetString());
        Assert.Equal("Active", listed.GetProperty("status").GetString());
        var run = Assert.Single(root.GetProperty("runs").EnumerateArray());
        Assert.Equal("remote-e2e", run.GetProperty("runId").GetString());
        Assert.Equal("Completed", run.GetProperty("state").GetString());
        Assert.Equal(rounds, run.GetProperty("round").GetInt32());
        Assert.Equal(rounds, run.GetProperty("totalRounds").GetInt32());
        Assert.Equal(0, run.GetProperty("restarts").GetInt32());
        Assert.Equal(silo.ToString(), run.GetProperty("coordinator").GetString());
        Assert.Equal(silo.ToString(), Assert.Single(run.GetProperty("trainers").EnumerateArray()).GetString());
        var history = run.GetProperty("rounds").EnumerateArray().ToList();
        Assert.Equal(status.History.Select(h => h.Round), history.Select(h => h.GetProperty("round").GetInt32()));
        Assert.Equal(status.History.Select(h => h.Mean.Loss), history.Select(h => h.GetProperty("loss").GetDouble()));
        Assert.Equal(
            status.History.Select(h => h.Eval!.OracleReward),
            history.Select(h => h.GetProperty("eval").GetProperty("oracleReward").GetDouble())
        );
    }

    [Fact]
    public void A_client_without_the_cluster_certificate_is_refused_with_exit_code_3()
    {
        var (code, output, err) = CliProcess.Run(
            new Dictionary<string, string?> { [RemoteCluster.CertificateVariable] = null },
            "status",
            "--cluster",
            silos.Gateways[0]
        );
        Assert.True(code == 3, $"exit {code}: {err}\n{output}");
        Assert.Contains(
            $"cannot connect to the cluster at {silos.Gateways[0]}: {silos.Gateways[0]}: "
                + "the cluster requires TLS and this client has no cluster certificate (give it with --certificate",
            err
        );
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public void A_client_with_another_certificate_is_refused_with_exit_code_3()
    {
        // A certificate made the same way as the cluster's, but not the cluster's: the pin refuses it.
        string other = Path.Combine(TestConfigs.TempDirectory(), "other.pfx");
        using (var certificate = ClusterCertificate.CreateSelfSigned())
            ClusterCertificate.WritePfx(certificate, other, null);
        var (code, output, err) = CliProcess.Run(
            new Dictionary<string, string?> { [RemoteCluster.CertificateVariable] = null },
            "status",
            "--certificate",
            other,
            "--cluster",
            silos.Gateways[0]
        );
        Assert.True(code == 3, $"exit {code}: {err}\n{output}");
        Assert.Contains($"cannot connect to the cluster at {silos.Gateways[0]}: {silos.Gateways[0]}: ", err);
        Assert.Contains("not the cluster certificate", err);
        Assert.DoesNotContain("   at ", err);

        // The cluster's own certificate through the same option is accepted (the refusal above is about the pin).
        (code, output, err) = CliProcess.Run(
            new Dictionary<string, string?> { [RemoteCluster.CertificateVariable] = null },
            "status",
            "--certificate",
            silos.Certificate,
            "--cluster",
            silos.Gateways[0]
        );
        Assert.True(code == 0, $"exit {code}: {err}\n{output}");
    }

    [Fact]
    public void Resuming_a_run_the_cluster_never_started_is_refused_and_records_nothing()
    {
        // It used to wait forever at "round 0/0 (created)" and leave a coordinator record for the name behind.
        var (code, output, err) = Cli("train", "--cluster", silos.Gateways[0], "--resume", "--run", "ghost-run");
        Assert.True(code == 2, $"exit {code}: {err}\n{output}");
        Assert.Contains("error: run 'ghost-run' does not exist", err);
        Assert.DoesNotContain("   at ", err);
        var records = System
            .IO.Directory.GetFiles(silos.Directory, "*", SearchOption.AllDirectories)
            // Temp files live in dot folders; grain state is one file per grain (none may exist for the name).
            .Where(f => f.Contains("ghost-run") && !f.Contains("/.") && !f.Contains("/directory/"))
            .ToList();
        Assert.True(records.Count == 0, $"records left for the run: {string.Join(", ", records)}");

        (code, _, err) = Cli("status", "--cluster", silos.Gateways[0], "--run", "ghost-run");
        Assert.Equal(2, code);
        Assert.Contains("run 'ghost-run' does not exist on the cluster", err);
    }

    [Fact]
    public void An_unreachable_gateway_is_named_with_exit_code_3()
    {
        string nobody = $"127.0.0.1:{silos.BasePort + 50}"; // inside no silo's range: nothing listens there
        var (code, _, err) = Cli("status", "--cluster", nobody);
        Assert.Equal(3, code);
        Assert.Contains($"cannot connect to the cluster at {nobody}", err);
        Assert.DoesNotContain("   at ", err);
    }
}
