using System.Text.Json;
using AlignCluster.Client.Cluster;
using AlignCluster.Contracts;
using AlignCluster.Grains.Coordinator;

namespace AlignCluster.Integration.Tests.Cluster;

/// <summary>
/// A run whose preparation inputs equal an earlier run's starts from that run's prepared round 0, and ends exactly
/// where it would have ended had it prepared itself (preparation is deterministic).
/// </summary>
public class PreparationReuseTests
{
    [Fact]
    public async Task ASecondLossOnTheSameSeedReusesTheSftAndCandidatesAndEndsAsIfItHadPreparedItself()
    {
        await using var cluster = await EmbeddedCluster.StartAsync(TestConfigs.TempDirectory());
        var first = TestConfigs.Tiny("prep-dpo", loss: "dpo", rounds: 2);
        var firstStatus = await ClusterHarness.RunToEndAsync(cluster, first);
        string key = PreparationCache.Key(first);
        Assert.NotNull(await cluster.Store.OpenReadAsync($"prepared/{key}.json"));

        // Same seed and data, another loss and selector: the same preparation key; a different seed: another key.
        var reusing = TestConfigs.Tiny("prep-cd-reused", loss: "cd", strategy: "max", rounds: 2);
        Assert.Equal(key, PreparationCache.Key(reusing));
        Assert.NotEqual(key, PreparationCache.Key(first with { Seed = 8 }));
        Assert.NotEqual(key, PreparationCache.Key(first with { Sft = first.Sft with { Epochs = 3 } }));

        var reused = await ClusterHarness.RunToEndAsync(cluster, reusing);
        var recomputed = await ClusterHarness.RunToEndAsync(
            cluster,
            reusing with
            {
                RunId = "prep-cd-recomputed",
                ReusePreparation = false,
            }
        );

        // Independent reference: the same run preparing itself. Every step's metrics and every evaluation agree
        // exactly.
        Assert.Equal(Json(recomputed.Sft), Json(reused.Sft));
        Assert.Equal(Json(recomputed.Baseline), Json(reused.Baseline));
        Assert.Equal(Json(firstStatus.Baseline), Json(reused.Baseline));
        Assert.Equal(recomputed.History.Length, reused.History.Length);
        for (int r = 0; r < reused.History.Length; r++)
        {
            Assert.Equal(Json(recomputed.History[r].Steps), Json(reused.History[r].Steps));
            Assert.Equal(Json(recomputed.History[r].Eval), Json(reused.History[r].Eval));
        }
    }

    [Fact]
    public async Task RunsPreparingTheSameRoundZeroAtOnceAllComplete()
    {
        // Both write the shared prepared checkpoint; the later writer's compare-and-swap failed and failed its run
        // (seen with `demo --policy toy --seeds 1`: two methods of one seed prepare side by side).
        await using var cluster = await EmbeddedCluster.StartAsync(TestConfigs.TempDirectory(), cpuDevices: 4);
        var configs = new[] { "dpo", "cd", "ipo", "minor_dpo" }
            .Select(loss => TestConfigs.Tiny($"prep-together-{loss}", loss: loss, rounds: 1))
            .ToList();
        Assert.Single(configs.Select(PreparationCache.Key).Distinct());
        var statuses = await Task.WhenAll(configs.Select(c => ClusterHarness.RunToEndAsync(cluster, c)));
        Assert.Single(statuses.Select(s => Json(s.Baseline)).Distinct());
    }

    [Fact]
    public async Task TheRecordedPreparationIsWhatTheSecondRunReads()
    {
        await using var cluster = await EmbeddedCluster.StartAsync(TestConfigs.TempDirectory());
        var first = TestConfigs.Tiny("prep-a", rounds: 1);
        await ClusterHarness.RunToEndAsync(cluster, first);

        // Mark the recorded baseline; a run that reads the record reports the mark, one that may not reuse does not.
        var cache = new PreparationCache(cluster.Store);
        string key = PreparationCache.Key(first);
        var prepared = (await cache.ReadAsync(key))!;
        var marked = prepared with { Baseline = prepared.Baseline with { OracleReward = 0.125 } };
        await cluster.Store.DeleteAsync($"prepared/{key}.json");
        await cache.WriteAsync(key, marked);

        var reader = await ClusterHarness.RunToEndAsync(cluster, first with { RunId = "prep-b" });
        var fresh = await ClusterHarness.RunToEndAsync(
            cluster,
            first with
            {
                RunId = "prep-c",
                ReusePreparation = false,
            }
        );
        Assert.Equal(0.125, reader.Baseline!.OracleReward);
        Assert.Equal(prepared.Baseline.OracleReward, fresh.Baseline!.OracleReward);

        // A record whose checkpoint is gone is not trusted: the run prepares itself.
        await cluster.Store.DeleteAsync($"{PreparationCache.CheckpointId(key)}/round-0000/COMPLETE");
        var fallback = await ClusterHarness.RunToEndAsync(cluster, first with { RunId = "prep-d" });
        Assert.Equal(prepared.Baseline.OracleReward, fallback.Baseline!.OracleReward);
    }

    private static string Json<T>(T value) => JsonSerializer.Serialize(value);
}
