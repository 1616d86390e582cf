using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using AlignCluster.Client.Cluster;
using AlignCluster.Contracts;
using AlignCluster.Grains.Configuration;
using AlignCluster.Integration.Tests.Cluster;
using Azure.Data.Tables;
using Xunit.Abstractions;

namespace AlignCluster.Integration.Tests.Remote;

/// <summary>
/// Three silo processes on Azurite: silo 0 a head silo without devices (CPU_DEVICES=0,1: coordinators and shards
/// only), silos 1 and 2 one CPU device each. A one-trainer run whose coordinator sits on the head silo has its trainer
/// on silo 1 or 2 and, once that silo is killed, exactly one spare device to move to.
/// </summary>
public sealed class HeadSiloAndTwoDeviceSilos : LocalSilos
{
    protected override int SiloCount => 3;
    protected override string Storage => "azure";
    protected override string CpuDevices => "0,1";
}

/// <summary>
/// kill -9 of the silo process holding a run's trainer mid-run, while `train --cluster A,B,C` follows the run and the
/// coordinator's silo lives on: the round restarts from the last checkpoint on the other device, and the run ends
/// bit-identical to an uninterrupted run of the same config on the same cluster. (The in-process twin is
/// SiloLossTests; this one crosses real processes, TLS and Azure Storage.)
/// </summary>
[Collection(RemoteCollection.Name)]
public sealed class TrainerSiloLossTests(HeadSiloAndTwoDeviceSilos silos, ITestOutputHelper log)
    : IClassFixture<HeadSiloAndTwoDeviceSilos>
{
    [Fact]
    public async Task Killing_the_trainers_silo_restarts_the_round_on_another_device_and_ends_bit_identical()
    {
        const int rounds = 16; // enough that the kill lands mid-run and the polls see the new trainer
        // The test's client talks to the head silo's gateway only: that silo is never killed, so no call of the test
        // waits on the dead silo's gateway (`train` below uses all three, as users do).
        await using var observer = await RemoteCluster.ConnectAsync([silos.Gateways[0]], silos.Certificate);

        // A run id whose coordinator is on the head silo (silo 0), so the kill below takes the trainer and not the
        // coordinator (that case is CoordinatorSiloLossTests). Asking a coordinator where it is activates it empty and
        // starts nothing; `train` then finds that activation.
        string runId = "";
        for (int i = 0; i < 64 && runId == ""; i++)
        {
            var probe = await observer.Client.GetGrain<ICoordinatorGrain>($"trainer-loss-{i}").GetPlacementAsync();
            if (IndexOf(probe.Coordinator) == 0)
                runId = $"trainer-loss-{i}";
        }
        Assert.NotEqual("", runId);
        var coordinator = observer.Client.GetGrain<ICoordinatorGrain>(runId);

        string config = WriteConfig(runId, rounds);
        var train = Task.Run(() =>
            silos.Cli("train", "--cluster", string.Join(",", silos.Gateways), "--config", config)
        );
        await MidRun.WaitAsync(coordinator, rounds); // >= 1 round done, so its checkpoint exists (checkpoint.every 1)
        var placement = await coordinator.GetPlacementAsync();
        Assert.Equal(0, IndexOf(placement.Coordinator));
        string trainerSilo = placement.Trainers.Single() ?? throw new InvalidOperationException("no trainer active");
        int killed = IndexOf(trainerSilo);
        Assert.NotEqual(0, killed); // the head silo declares no device

        var killedAt = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        Assert.Contains("killed at", await silos.ScriptAsync($"kill {killed}", TimeSpan.FromSeconds(30)));
        var recovery = await WatchRecoveryAsync(observer.Client, coordinator, trainerSilo, rounds, clock);
        // The membership table's own record: Azurite stamps the row's last write (the Dead vote) with its clock,
        // which is this machine's, so this time does not depend on any poll.
        var row = await MembershipRowAsync(trainerSilo);
        Assert.Equal("Dead", $"{row["Status"]}");
        log.WriteLine(
            $"membership table: silo {killed} written Dead {(row.Timestamp!.Value - killedAt).TotalSeconds:0.00} s "
                + $"after the kill (suspected by {(row.TryGetValue("SuspectingSilos", out var by) ? by : "?")})"
        );
        log.WriteLine(
            $"kill -9 of silo {killed} (the trainer's) in round {recovery.Interrupted}: declared dead after "
                + $"{recovery.Dead.TotalSeconds:0.00} s, round failed (restart or resume counted) after "
                + $"{recovery.Failed.TotalSeconds:0.00} s, trainer active on {recovery.NewSilo} after "
                + $"{recovery.Moved.TotalSeconds:0.00} s, that round done after "
                + $"{recovery.RoundDone.TotalSeconds:0.00} s (load average "
                + $"{File.ReadAllText("/proc/loadavg").Split(' ')[0]}, {Environment.ProcessorCount} cores)"
        );
        int moved = IndexOf(recovery.NewSilo);
        Assert.NotEqual(killed, moved);
        Assert.NotEqual(0, moved); // on the one spare device: the other device silo

        var (code, output, err) = await train;
        Assert.True(code == 0, $"train --cluster exited {code} after the trainer's silo died: {err}\n{output}");
        Assert.Contains($"Run {runId}: Completed", output);

        // The run's own record, as users read it (status --json through the survivors): every round exactly once and
        // the recovery counted. Two recoveries are possible, both from the last checkpoint: the coordinator's round
        // fails when the silo is declared dead (Orleans breaks calls to a dead silo) and it restarts the round
        // (restarts); or, when the killed silo also held the coordinator's grain-directory entry, Orleans deactivates
        // the coordinator (its registration is lost) and the next call re-activates it on a survivor, which resumes the
        // run (resumed). Which one happens depends on the directory's hash ring, not on this test.
        string survivors = string.Join(",", silos.Gateways.Where((_, i) => i != killed));
        var run = StatusJson(survivors, runId);
        Assert.Equal("Completed", run.GetProperty("state").GetString());
        Assert.Equal(
            Enumerable.Range(1, rounds),
            run.GetProperty("rounds").EnumerateArray().Select(r => r.GetProperty("round").GetInt32())
        );
        int restarts = run.GetProperty("restarts").GetInt32(),
            resumed = run.GetProperty("resumed").GetInt32();
        log.WriteLine($"recorded: {restarts} round restart(s), {resumed} coordinator resume(s)");
        Assert.True(restarts + resumed >= 1, $"no recovery recorded: {run}");

        // The reference: the same config and seed, uninterrupted, on the same (now two-silo) cluster. Only the run id
        // differs, and it enters no random draw: every seed is SeededRandom.Derive(config.seed, labels) (coordinator,
        // trainer, task data), shards are chosen by prompt id, and preparation reuse is off so the reference computes
        // its own SFT and candidates. The run id is in checkpoint paths and the manifest, not in the exported files.
        string referenceId = runId + "-reference";
        (code, output, err) = silos.Cli("train", "--cluster", survivors, "--config", WriteConfig(referenceId, rounds));
        Assert.True(code == 0, $"the uninterrupted reference run failed ({code}): {err}\n{output}");
        var reference = StatusJson(survivors, referenceId);
        Assert.Equal(0, reference.GetProperty("restarts").GetInt32());

        // Bit-identical weights: the final round's exported model.safetensors (and config.json) hash the same.
        Assert.Equal(ExportHashes(survivors, referenceId, rounds), ExportHashes(survivors, runId, rounds));
        // And every number the run recorded, exactly (JSON writes doubles round-trip; wall times left out).
        var expected = await observer.Client.GetGrain<ICoordinatorGrain>(referenceId).GetStatusAsync();
        var actual = await coordinator.GetStatusAsync();
        Assert.Equal(Metrics(expected), Metrics(actual));
    }

    /// <summary>The killed silo's row in the cluster's membership table (ClusterStorageOptions: prefix +
    /// "membership"; Orleans keys rows by address, port and generation).</summary>
    private async Task<TableEntity> MembershipRowAsync(string siloAddress)
    {
        string[] parts = siloAddress.TrimStart('S').Split(':'); // S<ip>:<port>:<generation>
        var table = new TableServiceClient(silos.StorageConnection).GetTableClient("alignclustermembership");
        await foreach (var row in table.QueryAsync<TableEntity>())
            if (Column(row, "Port") == parts[1] && Column(row, "Generation") == parts[2])
                return row;
        throw new InvalidOperationException($"no membership row for {siloAddress}");
        static string? Column(TableEntity row, string name) => row.TryGetValue(name, out var v) ? $"{v}" : null;
    }

    /// <summary>Silo index of a SiloAddress string ("S127.0.0.1:PORT:GEN"): silo i listens on BasePort + i.</summary>
    private int IndexOf(string siloAddress) => int.Parse(siloAddress.Split(':')[1]) - silos.BasePort;

    private static string WriteConfig(string runId, int rounds)
    {
        string path = Path.Combine(TestConfigs.TempDirectory(), "run.yaml");
        var tiny = TestConfigs.Tiny(runId, rounds: rounds) with { ReusePreparation = false };
        File.WriteAllText(path, RunConfigLoader.ToYaml(tiny));
        return path;
    }

    private JsonElement StatusJson(string gateways, string runId)
    {
        var (code, output, err) = silos.Cli("status", "--cluster", gateways, "--run", runId, "--json");
        Assert.True(code == 0, $"status --json failed ({code}): {err}\n{output}");
        return JsonDocument.Parse(output).RootElement.GetProperty("runs")[0].Clone();
    }

    /// <summary>`export --cluster` of a round, then SHA-256 of each exported file, by name.</summary>
    private string[] ExportHashes(string gateways, string runId, int round)
    {
        string dir = Path.Combine(TestConfigs.TempDirectory(), "export");
        var (code, output, err) = silos.Cli(
            "export",
            "--cluster",
            gateways,
            "--run",
            runId,
            "--round",
            round.ToString(),
            "--out",
            dir
        );
        Assert.True(code == 0, $"export of {runId} failed ({code}): {err}\n{output}");
        string[] hashes =
        [
            .. Directory
                .GetFiles(dir)
                .Order(StringComparer.Ordinal)
                .Select(f => $"{Path.GetFileName(f)} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))}"),
        ];
        Assert.Contains(hashes, h => h.StartsWith("model.safetensors ", StringComparison.Ordinal));
        return hashes;
    }

    private static readonly JsonSerializerOptions Exact = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Everything a run measured, as JSON, without wall times and the checkpoint keys (they hold the run
    /// id).</summary>
    private static string Metrics(RunStatus status) =>
        JsonSerializer.Serialize(
            new
            {
                status.Baseline,
                status.Sft,
                status.PromptsSkipped,
                History = status.History.Select(r => r with { Seconds = 0, StepSeconds = null, CheckpointKey = null }),
            },
            Exact
        );

    private sealed record Recovery(
        int Interrupted,
        TimeSpan Dead,
        TimeSpan Failed,
        TimeSpan Moved,
        string NewSilo,
        TimeSpan RoundDone
    );

    /// <summary>
    /// Times, from the kill, until the killed silo is Dead in the membership table, the coordinator counted a restart
    /// or resume, the trainer is active on another silo, and the interrupted round is done (or the run completed) —
    /// for the report, not asserted. Each is polled every 100 ms in a loop of its own (through the head silo's
    /// gateway), so no poll waits on another. (Polling the coordinator
    /// also re-activates it at once when it lost its directory entry; `train` polls it too.) Three minutes bound a
    /// stuck cluster on a loaded machine.
    /// </summary>
    private async Task<Recovery> WatchRecoveryAsync(
        IClusterClient client,
        ICoordinatorGrain coordinator,
        string killedSilo,
        int rounds,
        Stopwatch clock
    )
    {
        var management = client.GetGrain<IManagementGrain>(0);
        int interrupted = Math.Min((await coordinator.GetStatusAsync()).Round + 1, rounds);
        string? newSilo = null;
        var phases = new List<(TimeSpan At, string Phase)>(); // the coordinator's phases as the polls saw them
        async Task<TimeSpan> Until(string what, Func<Task<bool>> reached)
        {
            while (!await reached())
            {
                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(3), $"not within 3 minutes of the kill: {what}");
                await Task.Delay(100);
            }
            return clock.Elapsed;
        }
        async Task<bool> Noticed()
        {
            var status = await coordinator.GetStatusAsync();
            Assert.False(status.State == RunState.Failed, $"the run failed: {status.Error}");
            return status.Restarts + status.Resumed >= 1; // the round restarted, or the run resumed
        }
        var dead = Until("the silo declared dead", async () =>
            (await management.GetHosts(onlyActive: false)).Any(h =>
                h.Key.ToString() == killedSilo && h.Value == SiloStatus.Dead
            )
        );
        var failed = Until("a restart or resume counted", Noticed);
        var moved = Until("the trainer active on another silo", async () =>
        {
            newSilo = (await coordinator.GetPlacementAsync()).Trainers.Single();
            return newSilo is not null && newSilo != killedSilo;
        });
        var done = Until($"round {interrupted} done again", async () =>
        {
            bool noticed = await Noticed();
            var status = await coordinator.GetStatusAsync();
            if (phases.Count == 0 || phases[^1].Phase != status.Phase)
                phases.Add((clock.Elapsed, status.Phase));
            return noticed && (status.Round >= interrupted || status.State == RunState.Completed);
        });
        var recovery = new Recovery(interrupted, await dead, await failed, await moved, newSilo!, await done);
        foreach (var (at, phase) in phases)
            log.WriteLine($"  {at.TotalSeconds, 6:0.00} s  {phase}");
        // What `status` shows stays one line each, also when the error came from Orleans' messaging.
        Assert.All(phases, p => Assert.DoesNotContain('\n', p.Phase));
        return recovery;
    }
}
