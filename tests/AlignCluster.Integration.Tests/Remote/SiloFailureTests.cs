using System.Text.Json;
using AlignCluster.Client.Cluster;
using AlignCluster.Contracts;
using AlignCluster.Grains.Configuration;
using AlignCluster.Integration.Tests.Cluster;

namespace AlignCluster.Integration.Tests.Remote;

/// <summary>
/// Three silo processes on Azure Storage (Azurite, started by cluster.sh with STORAGE=azure): membership lives in a
/// table, so no silo is special and any one of them may die.
/// </summary>
public sealed class ThreeAzureSilos : LocalSilos
{
    protected override int SiloCount => 3;
    protected override string Storage => "azure";
}

/// <summary>
/// One silo on Azurite whose coordinators' keep-alive reminder fires every 5 s instead of every minute, so a test sees
/// the reminder bring a run back within seconds.
/// </summary>
public sealed class AzureSiloWithFastReminder : LocalSilos
{
    protected override string Storage => "azure";

    protected override IReadOnlyDictionary<string, string> SiloSettings =>
        new Dictionary<string, string> { ["ALIGNCLUSTER_COORDINATOR__KEEPALIVEPERIOD"] = "00:00:05" };
}

/// <summary>kill -9 of the silo process that hosts a run's coordinator, while `train --cluster A,B,C` follows
/// it.</summary>
[Collection(RemoteCollection.Name)]
public sealed class CoordinatorSiloLossTests(ThreeAzureSilos silos) : IClassFixture<ThreeAzureSilos>
{
    [Fact]
    public async Task Train_follows_the_run_through_the_other_gateways_when_the_coordinators_silo_is_killed()
    {
        const int rounds = 10;
        string config = MidRun.WriteConfig("failover", rounds);
        var train = Task.Run(() =>
            silos.Cli("train", "--cluster", string.Join(",", silos.Gateways), "--config", config)
        );

        // Find the coordinator's silo once the run has a round done, then kill that silo without a goodbye.
        int killed;
        string killedAddress;
        await using (var observer = await silos.ConnectAsync())
        {
            var coordinator = observer.Client.GetGrain<ICoordinatorGrain>("failover");
            await MidRun.WaitAsync(coordinator, rounds);
            var placement = await coordinator.GetPlacementAsync();
            killedAddress = placement.Coordinator;
            int port = int.Parse(killedAddress.Split(':')[1]);
            killed = port - silos.BasePort;
            silos.Kill(killed);
        }

        var (code, output, err) = await train;
        Assert.True(code == 0, $"train --cluster exited {code} after the coordinator's silo died: {err}\n{output}");
        Assert.Contains($"round {rounds}/{rounds}", err); // progress goes to stderr
        Assert.Contains("Run failover: Completed", output);

        // The run's own record, through the survivors: every round exactly once, picked up by a new activation on
        // another silo.
        string[] survivors = [.. silos.Gateways.Where((_, i) => i != killed)];
        var env = new Dictionary<string, string?> { [RemoteCluster.CertificateVariable] = silos.Certificate };
        (code, output, err) = CliProcess.Run(
            env,
            ["status", "--cluster", string.Join(",", survivors), "--run", "failover", "--json"]
        );
        Assert.True(code == 0, $"status --json failed ({code}): {err}\n{output}");
        var run = JsonDocument.Parse(output).RootElement.GetProperty("runs")[0];
        Assert.Equal("Completed", run.GetProperty("state").GetString());
        Assert.Equal(
            Enumerable.Range(1, rounds),
            run.GetProperty("rounds").EnumerateArray().Select(r => r.GetProperty("round").GetInt32())
        );
        Assert.True(run.GetProperty("resumed").GetInt32() >= 1, $"no resume recorded: {run}");
        Assert.NotEqual(killedAddress, run.GetProperty("coordinator").GetString());

        // `cluster.sh restart I` brings the killed silo back: three active silos again.
        await silos.RestartAsync(killed);
        (code, output, err) = silos.Cli("status", "--cluster", string.Join(",", survivors), "--json");
        Assert.True(code == 0, $"status --json failed ({code}): {err}\n{output}");
        var listed = JsonDocument
            .Parse(output)
            .RootElement.GetProperty("cluster")
            .GetProperty("silos")
            .EnumerateArray()
            .Select(s => (Address: s.GetProperty("address").GetString()!, Status: s.GetProperty("status").GetString()))
            .ToList();
        Assert.Equal(3, listed.Count(s => s.Status == "Active"));
        Assert.Contains(listed, s => s.Address == killedAddress && s.Status == "Dead");
    }
}

/// <summary>A full cluster restart (every silo killed, then started again) while a run is mid-way.</summary>
[Collection(RemoteCollection.Name)]
public sealed class FullClusterRestartTests(AzureSiloWithFastReminder silos) : IClassFixture<AzureSiloWithFastReminder>
{
    [Fact]
    public async Task The_coordinators_reminder_resumes_the_run_after_a_full_cluster_restart_without_a_command()
    {
        const int rounds = 8;
        string config = MidRun.WriteConfig("restart", rounds);
        var (code, output, err) = silos.Cli("train", "--cluster", silos.Gateways[0], "--config", config, "--detach");
        Assert.True(code == 0, $"train --detach failed ({code}): {err}\n{output}");

        await using (var before = await silos.ConnectAsync())
        {
            await MidRun.WaitAsync(before.Client.GetGrain<ICoordinatorGrain>("restart"), rounds);
            silos.Kill(0);
        }
        await silos.RestartAsync(0);

        // Nobody calls the run's grains now: the management grain only looks the coordinator up in the directory,
        // which activates nothing. An activation can only come from the coordinator's reminder.
        await using var after = await silos.ConnectAsync();
        var management = after.Client.GetGrain<IManagementGrain>(0);
        var resumed = after.Client.GetGrain<ICoordinatorGrain>("restart");
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (await management.GetActivationAddress(resumed) is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "no reminder re-activated the coordinator within 3 minutes");
            await Task.Delay(500);
        }
        var final = await RunWatcher.WaitAsync(resumed, poll: TimeSpan.FromMilliseconds(500));
        Assert.Equal(RunState.Completed, final.State);
        Assert.Equal(Enumerable.Range(1, rounds), final.History.Select(h => h.Round));
        Assert.True(final.Resumed >= 1, "the run was not resumed by a new activation");
    }
}

/// <summary>A run to break mid-way: its config, and waiting until it has a round done but is not finished.</summary>
internal static class MidRun
{
    public static string WriteConfig(string runId, int rounds)
    {
        string config = Path.Combine(TestConfigs.TempDirectory(), "run.yaml");
        File.WriteAllText(config, RunConfigLoader.ToYaml(TestConfigs.Tiny(runId, rounds: rounds)));
        return config;
    }

    public static async Task WaitAsync(ICoordinatorGrain coordinator, int rounds)
    {
        RunStatus status;
        do
        {
            await Task.Delay(200);
            status = await coordinator.GetStatusAsync();
        } while (status.Round < 1 && status.State is RunState.Created or RunState.Preparing or RunState.Running);
        Assert.True(
            status.State == RunState.Running && status.Round < rounds,
            $"the run must be mid-way when its silo dies (was {status.State}, round {status.Round})"
        );
    }
}
