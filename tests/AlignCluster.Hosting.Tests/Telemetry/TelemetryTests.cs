using System.Diagnostics;
using AlignCluster.Hosting.Placement;
using AlignCluster.Hosting.Telemetry;
using AlignCluster.Hosting.Tests.TestGrains;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using Orleans.TestingHost;

namespace AlignCluster.Hosting.Tests.Telemetry;

/// <summary>
/// One trace from the client through silo A to silo B. The silos talk over loopback sockets, so the trace context
/// crosses only if Orleans propagates it (AddActivityPropagation); the spans are collected by the in-memory exporter
/// that AddAlignClusterTelemetry wires in.
/// </summary>
public sealed class TelemetryTests : IAsyncLifetime
{
    private readonly List<Activity> _spans = [];
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo(
            (_, silo) =>
            {
                silo.AddActivityPropagation();
                silo.AddDevices([]);
            }
        );
        builder.ConfigureClient(client => client.AddActivityPropagation());
        // One exporter for the process: listeners are process-wide, so silos and client spans all reach it.
        builder.ConfigureClientHost(host =>
            host.Services.AddAlignClusterTelemetry(
                new TelemetryOptions { ServiceName = "hosting-tests", InMemorySpans = _spans }
            )
        );
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task One_trace_spans_client_silo_A_and_silo_B()
    {
        string a = _cluster.Silos[0].SiloAddress.ToParsableString();
        string b = _cluster.Silos[1].SiloAddress.ToParsableString();
        using var root = new ActivitySource("AlignCluster.Tests.Client").StartActivity("client-root");
        Assert.NotNull(root); // the telemetry listens to AlignCluster.* sources
        string[] visited = await _cluster.Client.GetGrain<IHopGrain>(a).Hop([b]);
        root.Stop();
        Assert.Equal([a, b], visited);
        _cluster.Client.ServiceProvider.GetRequiredService<TracerProvider>().ForceFlush();

        List<Activity> trace;
        lock (_spans)
            trace = _spans.Where(s => s.TraceId == root.TraceId).ToList();
        Activity hopA = trace.Single(s => s.OperationName == "hop" && (string?)s.GetTagItem("silo") == a);
        Activity hopB = trace.Single(s => s.OperationName == "hop" && (string?)s.GetTagItem("silo") == b);

        // hop B descends from hop A, which descends from the client's root, through Orleans' call spans.
        Assert.Contains(hopA, Ancestors(hopB, trace));
        Assert.Contains(root.SpanId, Ancestors(hopA, trace).Select(s => s.SpanId));
        var orleansSpans = trace.Where(s => s.Source.Name == AlignClusterTelemetry.OrleansApplicationSource).ToList();
        // Two calls (client → A, A → B), each with a client-side and a server-side span.
        Assert.Equal(2, orleansSpans.Count(s => s.Kind == ActivityKind.Client));
        Assert.Equal(2, orleansSpans.Count(s => s.Kind == ActivityKind.Server));
    }

    private static IEnumerable<Activity> Ancestors(Activity span, List<Activity> trace)
    {
        var bySpan = trace.ToDictionary(s => s.SpanId);
        for (ActivitySpanId parent = span.ParentSpanId; ; )
        {
            if (!bySpan.TryGetValue(parent, out Activity? next))
                yield break;
            yield return next;
            parent = next.ParentSpanId;
        }
    }
}
