using System.Diagnostics;
using AlignCluster.Runtime.Membership;
using AlignCluster.Runtime.Messaging;
using AlignCluster.Runtime.Protos;
using AlignCluster.Runtime.Transport;

namespace AlignCluster.Runtime.Tests.Net;

/// <summary>Membership protocol over real transports (in one process) and a CAS store.</summary>
public sealed class MembershipTests : IAsyncLifetime
{
    private static readonly ClusterKey Key = new("membership-test-key-0123456789");

    // Fast timing so the test is short: worst-case detection ≈ 3 × (0.3 + 2) + 4 (indirect) + 0.3 (refresh) ≈ 11 s; a
    // crashed in-process silo refuses connections at once, so it takes about 1 s. The test allows 30 s for a loaded
    // 2-core machine (the probe timeout stays generous so a busy machine does not produce false suspicions).
    private static readonly MembershipOptions Fast = new()
    {
        ClusterId = "test", ProbeInterval = TimeSpan.FromMilliseconds(300), ProbeTimeout = TimeSpan.FromSeconds(2),
        TableRefreshInterval = TimeSpan.FromMilliseconds(300), IAmAliveInterval = TimeSpan.FromSeconds(1),
    };
    private static readonly TimeSpan DetectionBound = TimeSpan.FromSeconds(30);

    private readonly TestStateStore _store = new();
    private readonly List<TestSilo> _silos = [];

    private sealed class TestSilo(TransportServer server, TransportClient client, MembershipService membership) : IAsyncDisposable
    {
        public TransportServer Server { get; } = server;
        public MembershipService Membership { get; } = membership;
        public bool Crashed;

        /// <summary>Simulates kill -9: the endpoint disappears and the protocol stops, without leaving.</summary>
        public async Task CrashAsync()
        {
            Crashed = true;
            await Server.DisposeAsync();
            await Membership.DisposeAsync();
            await client.DisposeAsync();
        }

        public async ValueTask DisposeAsync()
        {
            if (Crashed) return;
            await Membership.DisposeAsync();
            await Server.DisposeAsync();
            await client.DisposeAsync();
        }
    }

    private async Task<TestSilo> StartSiloAsync(int port = 0, MembershipOptions? options = null)
    {
        var router = new EnvelopeRouter();
        var server = new TransportServer(new TransportServerOptions { ClusterKey = Key, Port = port }, router);
        await server.StartAsync();
        var client = new TransportClient(Key);
        var self = SiloAddress.New("127.0.0.1", server.Port);
        if (_silos.Any(s => s.Membership.Self.SameEndpoint(self) && s.Membership.Self.Generation >= self.Generation))
            self = self with { Generation = _silos.Max(s => s.Membership.Self.Generation) + 1 };
        var membership = new MembershipService(self, new MembershipTable(_store, "test"), client, options ?? Fast,
            [new DeviceInfo("cpu:0", "cpu")], new Dictionary<string, string> { ["gateway"] = $"127.0.0.1:{server.Port}" });
        router.Route(EnvelopeKind.Ping, membership.PingHandler);
        router.Route(EnvelopeKind.Membership, new MembershipGateway(membership));
        await membership.JoinAsync(default);
        await membership.BecomeActiveAsync(default);
        var silo = new TestSilo(server, client, membership);
        _silos.Add(silo);
        return silo;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var s in _silos) await s.DisposeAsync();
    }

    [Fact]
    public async Task A_crashed_silo_is_declared_dead_by_votes_within_the_bound_and_the_others_stay_active()
    {
        var a = await StartSiloAsync();
        var b = await StartSiloAsync();
        var c = await StartSiloAsync();
        await TransportTests.WaitUntil(() => _silos.All(s => s.Membership.Current.ActiveSilos.Count == 3));

        var watch = Stopwatch.StartNew();
        await b.CrashAsync();
        await TransportTests.WaitUntil(() => a.Membership.Current.StatusOf(b.Membership.Self) == SiloStatus.Dead
                                              && c.Membership.Current.StatusOf(b.Membership.Self) == SiloStatus.Dead,
            (int)DetectionBound.TotalSeconds);
        Assert.True(watch.Elapsed < DetectionBound, $"detection took {watch.Elapsed}");

        var (table, _) = await new MembershipTable(_store, "test").ReadAsync(default);
        var dead = table.Find(b.Membership.Self)!;
        // Two live voters (a and c) remain, so the default NumVotesForDeathDeclaration = 2 needs both of their votes.
        Assert.Equal(new[] { a.Membership.Self.ToString(), c.Membership.Self.ToString() }.Order(),
            dead.Suspicions.Select(v => v.Voter).Order());
        Assert.Equal(SiloStatus.Active, table.Find(a.Membership.Self)!.Status);
        Assert.Equal(SiloStatus.Active, table.Find(c.Membership.Self)!.Status);
    }

    [Fact]
    public async Task A_graceful_leave_marks_the_silo_dead_and_a_restart_on_the_same_endpoint_gets_a_new_identity()
    {
        var a = await StartSiloAsync();
        var b = await StartSiloAsync();
        var port = b.Server.Port;
        var oldIdentity = b.Membership.Self;
        await b.Membership.BeginLeaveAsync(default);
        await b.Membership.LeaveAsync(default);
        await b.DisposeAsync();
        _silos.Remove(b);
        await TransportTests.WaitUntil(() => a.Membership.Current.StatusOf(oldIdentity) == SiloStatus.Dead);

        var restarted = await StartSiloAsync(port);
        Assert.True(restarted.Membership.Self.Generation > oldIdentity.Generation, $"{restarted.Membership.Self} vs {oldIdentity}");
        await TransportTests.WaitUntil(() => a.Membership.Current.IsActive(restarted.Membership.Self));
        Assert.Equal(SiloStatus.Dead, a.Membership.Current.StatusOf(oldIdentity));   // the old identity never comes back

        // A probe addressed to the dead generation is not answered by its successor on the same endpoint.
        var prober = new SiloProber(a.Membership.Self, new TransportClient(Key), TimeSpan.FromSeconds(15));
        Assert.False(await prober.ProbeAsync(oldIdentity, default), "the dead generation answered a probe");
        Assert.True(await prober.ProbeAsync(restarted.Membership.Self, default), "the restarted silo did not answer a probe");
    }

    [Fact]
    public async Task An_indirect_probe_reports_what_the_intermediary_sees()
    {
        var a = await StartSiloAsync();
        var b = await StartSiloAsync();
        var c = await StartSiloAsync();
        var prober = new SiloProber(a.Membership.Self, new TransportClient(Key), TimeSpan.FromSeconds(15));
        Assert.True(await prober.ProbeIndirectlyAsync(b.Membership.Self, c.Membership.Self, default), "b could not reach the live c");
        var cIdentity = c.Membership.Self;
        await c.CrashAsync();
        Assert.False(await prober.ProbeIndirectlyAsync(b.Membership.Self, cIdentity, default));
    }

    [Fact]
    public async Task Concurrent_table_updates_all_land_through_compare_and_swap()
    {
        var table = new MembershipTable(_store, "cas");
        // 20 writers each bump the version 5 times; a lost update would leave the version below 100.
        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(async () =>
        {
            for (int i = 0; i < 5; i++) await table.UpdateAsync(t => { t.Version++; return true; }, default);
        })));
        var (data, _) = await table.ReadAsync(default);
        Assert.Equal(100, data.Version);
    }

    [Fact]
    public async Task A_gateway_client_sees_the_same_table()
    {
        var a = await StartSiloAsync();
        var b = await StartSiloAsync();
        await using var client = new TransportClient(Key);
        await using var view = new GatewayMembershipView(client, ["127.0.0.1:1", $"127.0.0.1:{a.Server.Port}"]);   // the first is unreachable
        await view.StartAsync(TimeSpan.FromMilliseconds(200), default);
        await TransportTests.WaitUntil(() => view.Current.ActiveSilos.Count == 2);
        Assert.Equal(new[] { a.Membership.Self, b.Membership.Self }.Order(), view.Current.ActiveSilos.Select(s => s.Address));
        Assert.Equal("cpu:0", view.Current.ActiveSilos[0].Devices.Single().Id);
    }
}
