using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using AlignCluster.Runtime.Telemetry;

namespace AlignCluster.Runtime.Tests.Core;

public interface IRelayGrain : IGrainWithStringKey
{
    /// <summary>Calls the peer grain (so the trace has client → server → client → server).</summary>
    Task<int> Relay(int value);
}

public sealed class RelayGrain : Grain, IRelayGrain
{
    public Task<int> Relay(int value) => GrainFactory.GetGrain<IPeerGrain>(Guid.Parse("00000000-0000-0000-0000-0000000000aa")).Double(value);
}

[Collection(nameof(TelemetryTests))] // listeners are process-wide: keep these tests from overlapping each other
public class TelemetryTests
{
    [Fact]
    public async Task EachCallHasClientAndServerSpansLinkedThroughTraceparent()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == RuntimeDiagnostics.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        await using var cluster = await Fixture.StartAsync(2);

        using var root = new Activity("test-root").Start();
        Assert.Equal(8, await cluster.Client.GetGrain<IRelayGrain>("trace").Relay(4));
        root.Stop();

        var mine = spans.Where(s => s.TraceId == root.TraceId).ToList();
        Activity Find(ActivityKind kind, string method) => mine.Single(s => s.Kind == kind && (string?)s.GetTagItem("rpc.method") == method);
        var relayClient = Find(ActivityKind.Client, "Relay");
        var relayServer = Find(ActivityKind.Server, "Relay");
        var doubleClient = Find(ActivityKind.Client, "Double");
        var doubleServer = Find(ActivityKind.Server, "Double");

        Assert.Equal(root.SpanId, relayClient.ParentSpanId);
        Assert.Equal(relayClient.SpanId, relayServer.ParentSpanId);   // via the traceparent header
        Assert.Equal(relayServer.SpanId, doubleClient.ParentSpanId);  // the grain's outgoing call is inside its server span
        Assert.Equal(doubleClient.SpanId, doubleServer.ParentSpanId);
        Assert.Equal("aligncluster", relayServer.GetTagItem("rpc.system"));
        Assert.Equal(typeof(IRelayGrain).FullName, relayServer.GetTagItem("rpc.service"));
        Assert.Equal($"{typeof(IPeerGrain).FullName}/Double", doubleServer.DisplayName);
    }

    [Fact]
    public async Task CallsLatencyAndActivationsAreMeasured()
    {
        var measurements = new ConcurrentDictionary<string, double>();
        using var meter = new MeterListener
        {
            InstrumentPublished = (instrument, l) => { if (instrument.Meter.Name == RuntimeDiagnostics.Name) l.EnableMeasurementEvents(instrument); },
        };
        void Add(Instrument i, double v, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var t in tags)
                if (t.Key == "rpc.service" && (string?)t.Value == typeof(INumberedGrain).FullName || t.Key == "grain.type" && (string?)t.Value == typeof(INumberedGrain).FullName)
                    measurements.AddOrUpdate(i.Name, v, (_, old) => i is Histogram<double> ? old + 1 : old + v);
        }
        meter.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
        meter.SetMeasurementEventCallback<double>((i, _, tags, _) => Add(i, 1, tags));
        meter.Start();
        await using var cluster = await Fixture.StartAsync(1);
        for (int i = 0; i < 3; i++) await cluster.Client.GetGrain<INumberedGrain>(1000 + i).Key();

        Assert.Equal(3, measurements["aligncluster.runtime.calls.sent"]);
        Assert.Equal(3, measurements["aligncluster.runtime.calls.served"]);
        Assert.Equal(3, measurements["aligncluster.runtime.call.duration"]);
        Assert.Equal(3, measurements["aligncluster.runtime.activations"]);
    }
}
