using AlignCluster.Client.Cluster;
using AlignCluster.Contracts;
using AlignCluster.Grains.Checkpoints;
using AlignCluster.Grains.Configuration;
using AlignCluster.Hosting.Checkpoints;
using AlignCluster.Integration.Tests.Cluster;

namespace AlignCluster.Integration.Tests.Remote;

/// <summary>`aligncluster eval --cluster` and `export --cluster` against a silo process started by
/// deploy/local/cluster.sh.</summary>
[Collection(RemoteCollection.Name)]
public sealed class RemoteEvalTests(LocalSilos silos) : IClassFixture<LocalSilos>
{
    [Fact]
    public async Task Eval_on_the_cluster_reproduces_the_runs_own_final_evaluation()
    {
        string dir = TestConfigs.TempDirectory();
        string config = Path.Combine(dir, "run.yaml");
        File.WriteAllText(config, RunConfigLoader.ToYaml(TestConfigs.Tiny("remote-eval", rounds: 1)));
        string[] cluster = ["--cluster", string.Join(",", silos.Gateways)];
        var (code, output, err) = silos.Cli(["train", .. cluster, "--config", config]);
        Assert.True(code == 0, $"train --cluster failed ({code}): {err}\n{output}");

        (code, output, err) = silos.Cli(["eval", .. cluster, "--run", "remote-eval"]);
        Assert.True(code == 0, $"eval --cluster failed ({code}): {err}\n{output}");
        Assert.Contains("checkpoint of round 1", output);

        // The run evaluated its round-1 policy with the same seeded draws; the checkpoint restored on a separate
        // trainer activation must give the same numbers (the oracle reward and the win-rate, as printed).
        await using var remote = await silos.ConnectAsync();
        var own = (await remote.Client.GetGrain<ICoordinatorGrain>("remote-eval").GetStatusAsync()).History[^1].Eval!;
        Assert.Contains($"│ {own.OracleReward:F3} ", output);
        Assert.Contains($"│ {own.WinRate:F3} ", output);

        (code, _, err) = silos.Cli(["eval", .. cluster, "--run", "remote-eval", "--round", "9"]);
        Assert.Equal(2, code);
        Assert.Contains("no complete checkpoint for round 9", err);
        (code, _, err) = silos.Cli(["eval", .. cluster, "--run", "never-started"]);
        Assert.Equal(2, code);
        Assert.Contains("run 'never-started' does not exist", err);

        // export --cluster: the files equal the files in the silos' checkpoint store (deploy/local keeps it under
        // CLUSTER_DIR/data), read here directly through the storage API rather than through the coordinator grain.
        string exported = Path.Combine(dir, "exported");
        (code, output, err) = silos.Cli(["export", .. cluster, "--run", "remote-eval", "--out", exported]);
        Assert.True(code == 0, $"export --cluster failed ({code}): {err}\n{output}");
        Assert.Contains("exported remote-eval round 1", output);
        var store = new LocalCheckpointStorage(Path.Combine(silos.Directory, "data", "checkpoints"));
        foreach (var name in new[] { "config.json", "model.safetensors" })
        {
            await using var stored = (
                await store.OpenReadAsync(CheckpointStore.Prefix("remote-eval", 1) + "policy/" + name)
            )!;
            using var bytes = new MemoryStream();
            await stored.CopyToAsync(bytes);
            Assert.Equal(bytes.ToArray(), File.ReadAllBytes(Path.Combine(exported, name)));
        }
        (code, _, err) = silos.Cli([
            "export",
            .. cluster,
            "--run",
            "remote-eval",
            "--round",
            "9",
            "--out",
            Path.Combine(dir, "none"),
        ]);
        Assert.Equal(2, code);
        Assert.Contains("no complete checkpoint for round 9", err);
        Assert.False(Directory.Exists(Path.Combine(dir, "none")));
        (code, _, err) = silos.Cli([
            "export",
            .. cluster,
            "--run",
            "never-started",
            "--out",
            Path.Combine(dir, "none"),
        ]);
        Assert.Equal(2, code);
        Assert.Contains("run 'never-started' does not exist", err);
    }
}
