using System.Diagnostics;
using System.Text.Json;
using AlignCluster.Runtime.Membership;
using AlignCluster.Runtime.Messaging;
using AlignCluster.Runtime.Storage;
using AlignCluster.Runtime.Tests.Storage;
using AlignCluster.Runtime.Transport;

namespace AlignCluster.Runtime.Tests.Net;

/// <summary>deploy/local/cluster.sh with STORAGE=azure: silo processes whose default store is the Azurite it starts.</summary>
[Collection(MultiProcessCollection.Name)]
public sealed class AzureStorageClusterTests
{
    private const string Container = "aligncluster";   // the container the script names in the connection string

    [Fact]
    public async Task A_two_silo_cluster_on_Azurite_persists_grain_state_there_and_stops()
    {
        await using var cluster = new LocalClusterProcess(ClusterKey.Generate(), new Dictionary<string, string>
        {
            ["STORAGE"] = "azure",
            ["ALIGNCLUSTER_GRAINASSEMBLIES__0"] = typeof(NetCounterGrain).Assembly.Location,
            ["ALIGNCLUSTER_GRAINCLASSES__0"] = typeof(NetCounterGrain).FullName!,
        });
        await cluster.StartAsync(2);
        int azuritePid = int.Parse(File.ReadAllText(Path.Combine(cluster.Directory, "azurite.pid")));

        await using var transport = new TransportClient(new ClusterKey(cluster.Key));
        await using var view = new GatewayMembershipView(transport, cluster.Silos.Select(s => s.Gateway).ToList());
        await view.StartAsync(TimeSpan.FromSeconds(1), default);
        await TransportTests.WaitUntil(() => view.Current.ActiveSilos.Count == 2, 60, "2 active silos in the client's view");
        // Each silo places grains by its own view: wait until both see both (else the first silo places everything).
        foreach (var silo in cluster.Silos)
        {
            await using var siloView = new GatewayMembershipView(transport, [silo.Gateway]);
            await TransportTests.WaitUntil(() => siloView.RefreshAsync(default).ContinueWith(_ => siloView.Current.ActiveSilos.Count == 2).Result,
                60, $"{silo.Address} sees 2 active silos");
        }
        var client = new ClusterClient(new RuntimeOptions().AddGrainInterface<INetCounterGrain>(), new GrpcSiloTransport(transport), view);

        // Grains until both silos host one; each is incremented twice, and Increment persists before it returns.
        var homes = new Dictionary<string, string>();
        for (int g = 0; homes.Values.Distinct().Count() < 2; g++)
        {
            Assert.True(g < 64, "64 grains all landed on one silo");
            var grain = client.GetGrain<INetCounterGrain>($"az{g}");
            Assert.Equal(1, await grain.Increment());
            Assert.Equal(2, await grain.Increment());
            homes[$"az{g}"] = await grain.WhereAmI();
        }

        // While it runs: Azurite holds each grain's state and a membership table with both silos active.
        var store = new AzureBlobStateStore(AzureStorageAccount.Parse(AzuriteFixture.ConnectionString(cluster.BasePort - 1000, Container)));
        await AssertStoredCounts(store, homes.Keys, 2);
        var (running, _) = await new MembershipTable(store, "local").ReadAsync(default);
        Assert.Equal(2, running.Rows.Count(r => r.Status == SiloStatus.Active));

        await cluster.StopAsync();
        // The script stopped the silos and Azurite by PID.
        foreach (var pid in cluster.Silos.Select(s => s.Pid).Append(azuritePid))
            await TransportTests.WaitUntil(() => !IsRunning(pid), 30, $"process {pid} gone");

        // What the cluster left in Azurite's folder, read through a new Azurite: the states, and both silos' graceful
        // leave (Dead rows) written at shutdown.
        using var reopened = new AzuriteFixture(Path.Combine(cluster.Directory, "azurite"));
        var after = reopened.CreateStore(Container);
        await AssertStoredCounts(after, homes.Keys, 2);
        var (stopped, _) = await new MembershipTable(after, "local").ReadAsync(default);
        Assert.Equal(2, stopped.Rows.Count);
        Assert.All(stopped.Rows, r => Assert.Equal(SiloStatus.Dead, r.Status));
    }

    private static async Task AssertStoredCounts(IStateStore store, IEnumerable<string> keys, int count)
    {
        foreach (var key in keys)
        {
            var record = await store.ReadAsync("grainstate", $"{typeof(INetCounterGrain).FullName}/{key}/count");
            Assert.NotNull(record);
            using var json = JsonDocument.Parse(record.Data);
            Assert.Equal(count, json.RootElement.GetProperty("Count").GetInt32());
        }
    }

    private static bool IsRunning(int pid)
    {
        try { using var p = Process.GetProcessById(pid); return !p.HasExited; }
        catch (ArgumentException) { return false; }
    }
}
