using System.Diagnostics;
using AlignCluster.Runtime.Membership;
using AlignCluster.Runtime.Messaging;
using AlignCluster.Runtime.Storage;
using AlignCluster.Runtime.Transport;

namespace AlignCluster.Runtime.Tests.Net;

/// <summary>Silo processes are heavy on a 2-core machine: these tests run alone, not beside other test classes.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MultiProcessCollection
{
    public const string Name = "multi-process silos";
}

/// <summary>
/// Failures of real silo processes started by deploy/local/cluster.sh, with the test process as a gateway client.
/// </summary>
[Collection(MultiProcessCollection.Name)]
public sealed class MultiProcessClusterTests : IClassFixture<MultiProcessClusterTests.ThreeSiloCluster>
{
    /// <summary>
    /// Stated detection bound. With the default membership timing the worst case is about
    /// MissedProbesLimit 3 × (ProbeInterval 1 s + ProbeTimeout 2 s) + indirect probe 4 s + table write ≈ 13 s, plus one
    /// client refresh (1 s); 45 s leaves room for a loaded 2-core machine.
    /// </summary>
    private static readonly TimeSpan DetectionBound = TimeSpan.FromSeconds(45);

    private readonly ThreeSiloCluster _fixture;
    public MultiProcessClusterTests(ThreeSiloCluster fixture) => _fixture = fixture;

    /// <summary>Three silo processes shared by the tests of this class (starting them is the slow part).</summary>
    public sealed class ThreeSiloCluster : IAsyncLifetime
    {
        public LocalClusterProcess Cluster { get; } = new(ClusterKey.Generate(), new Dictionary<string, string>
        {
            ["ALIGNCLUSTER_GRAINASSEMBLIES__0"] = typeof(NetCounterGrain).Assembly.Location,
            ["ALIGNCLUSTER_GRAINCLASSES__0"] = typeof(NetCounterGrain).FullName!,
        });

        /// <summary>Silos the kill test has not killed.</summary>
        public List<LocalClusterProcess.Silo> Alive { get; } = [];

        public async Task InitializeAsync()
        {
            await Cluster.StartAsync(3);
            lock (Alive) Alive.AddRange(Cluster.Silos);
        }

        public async Task DisposeAsync() => await Cluster.DisposeAsync();
    }

    [Fact]
    public async Task Kill9_of_a_silo_is_detected_within_the_bound_and_its_grains_reactivate_elsewhere_with_their_state()
    {
        var cluster = _fixture.Cluster;
        var key = new ClusterKey(cluster.Key);
        await using var transport = new TransportClient(key);
        await using var view = new GatewayMembershipView(transport, cluster.Silos.Select(s => s.Gateway).ToList());
        await view.StartAsync(TimeSpan.FromSeconds(1), default);
        await TransportTests.WaitUntil(() => view.Current.ActiveSilos.Count == 3, 60, "3 active silos in the client's view");
        var options = new RuntimeOptions().AddGrainInterface<INetCounterGrain>();
        var client = new ClusterClient(options, new GrpcSiloTransport(transport), view);

        // Twelve grains, each incremented twice (each increment persists), spread by consistent hashing.
        var homes = new Dictionary<string, string>();
        for (int g = 0; g < 12; g++)
        {
            var grain = client.GetGrain<INetCounterGrain>($"g{g}");
            Assert.Equal(1, await grain.Increment());
            Assert.Equal(2, await grain.Increment());
            homes[$"g{g}"] = await grain.WhereAmI();
        }
        var victimAddress = homes.Values.GroupBy(h => h).OrderByDescending(x => x.Count()).First().Key;
        var victim = cluster.Silos.Single(s => s.Address == victimAddress);
        var victimGrains = homes.Where(h => h.Value == victimAddress).Select(h => h.Key).ToList();

        // An in-flight call on the victim: a grain living there, busy for 10 s when the process dies.
        string? slowKey = null;
        for (int i = 0; slowKey is null; i++)
            if (await client.GetGrain<INetCounterGrain>($"slow{i}").WhereAmI() == victimAddress) slowKey = $"slow{i}";
        var slow = client.GetGrain<INetCounterGrain>(slowKey);
        var inFlight = slow.SlowIncrement(10_000);
        await Task.Delay(500);
        // Three more calls queued behind it in the activation's mailbox (turn-based: they wait for the slow turn).
        var queued = Enumerable.Range(0, 3).Select(_ => slow.Increment()).ToList();
        await Task.Delay(300);

        var watch = Stopwatch.StartNew();
        lock (_fixture.Alive) _fixture.Alive.Remove(victim);
        LocalClusterProcess.Kill9(victim.Pid);
        var victimId = SiloAddress.Parse(victimAddress);

        // The in-flight call fails with a clear error naming the silo (it is not silently lost, and it does not hang).
        var failure = await Record.ExceptionAsync(() => inFlight.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.True(failure is SiloUnavailableException, $"expected SiloUnavailableException, got {failure?.ToString() ?? "success"}");
        Assert.Contains($"{victimId.Host}:{victimId.Port}", failure!.Message);
        Assert.True(((SiloUnavailableException)failure).RequestSent);
        // So do the calls queued behind it: none is lost silently, none hangs, none is retried elsewhere (each may
        // have run: at-most-once).
        foreach (var call in queued)
        {
            var queuedFailure = await Record.ExceptionAsync(() => call.WaitAsync(TimeSpan.FromSeconds(60)));
            var unavailable = Assert.IsType<SiloUnavailableException>(queuedFailure);
            Assert.Equal(victimId, unavailable.Silo);
            Assert.True(unavailable.RequestSent);
        }
        // A call made once the client saw the stream break, to a grain it knows lives on the victim: the victim's port
        // now refuses connections, so the request never leaves (RequestSent false: safe to retry once re-placed) —
        // unless membership already re-placed the grain, in which case it runs on a survivor.
        var lateKey = victimGrains[0];
        var late = await Record.ExceptionAsync(() => client.GetGrain<INetCounterGrain>(lateKey).Get());
        if (late is not null)
        {
            var unavailable = Assert.IsType<SiloUnavailableException>(late);
            Assert.False(unavailable.RequestSent, $"a refused connection cannot have delivered the request: {late}");
            Assert.Contains($"{victimId.Host}:{victimId.Port}", late.Message);
        }

        await TransportTests.WaitUntil(() => view.Current.StatusOf(victimId) == SiloStatus.Dead, (int)DetectionBound.TotalSeconds + 5,
            $"{victimId} declared dead");
        Assert.True(watch.Elapsed < DetectionBound, $"declared dead after {watch.Elapsed}, bound {DetectionBound}");

        // Calls made while a survivor has not yet refreshed its table may still be routed to the dead silo (and fail
        // with SiloUnavailableException); wait until every survivor's gateway reports the death, as a caller would retry.
        foreach (var survivor in cluster.Silos.Where(s => s != victim))
        {
            await using var survivorView = new GatewayMembershipView(transport, [survivor.Gateway]);
            await TransportTests.WaitUntil(() => survivorView.RefreshAsync(default).ContinueWith(_ => survivorView.Current.StatusOf(victimId) == SiloStatus.Dead).Result,
                30, $"{survivor.Address} sees {victimId} dead");
        }

        // Every grain of the dead silo re-activates on a survivor with its persisted count (2), and counts on.
        foreach (var key2 in victimGrains)
        {
            var grain = client.GetGrain<INetCounterGrain>(key2);
            Assert.Equal(2, await grain.Get());
            Assert.NotEqual(victimAddress, await grain.WhereAmI());
            Assert.Equal(3, await grain.Increment());
        }
        foreach (var key2 in homes.Keys.Except(victimGrains))
            Assert.Equal(2, await client.GetGrain<INetCounterGrain>(key2).Get());

        // The table keeps the votes that killed the victim; the survivors stay Active without votes.
        var (table, _) = await new MembershipTable(StateStoreFactory.Create($"local:{cluster.Directory}/data"), "local").ReadAsync(default);
        Assert.Equal(SiloStatus.Dead, table.Find(victimId)!.Status);
        Assert.NotEmpty(table.Find(victimId)!.Suspicions);
        Assert.All(table.Rows.Where(r => r.Address != victimAddress), r => Assert.Equal(SiloStatus.Active, r.Status));
    }

    [Fact]
    public async Task A_client_without_the_cluster_key_is_refused()
    {
        LocalClusterProcess.Silo silo;
        lock (_fixture.Alive) silo = _fixture.Alive[0];
        var gateway = silo.Gateway;

        await using var intruder = new TransportClient(new ClusterKey(ClusterKey.Generate()));
        await using var view = new GatewayMembershipView(intruder, [gateway]);
        var error = await Assert.ThrowsAsync<PeerUnavailableException>(() => view.StartAsync(TimeSpan.FromSeconds(1), default));
        Assert.Contains("refused", error.Message);

        var transport = new GrpcSiloTransport(intruder);
        var call = new InvocationRequest
        {
            CorrelationId = 1, Target = new GrainId(typeof(INetCounterGrain).FullName!, "x"),
            Interface = typeof(INetCounterGrain).FullName!, Method = nameof(INetCounterGrain.Get), Arguments = [],
        };
        var refused = await Assert.ThrowsAsync<SiloUnavailableException>(() =>
            transport.SendAsync(SiloAddress.Parse(silo.Address), call, default).AsTask());
        Assert.IsType<ClusterAuthenticationException>(refused.InnerException);
    }
}
