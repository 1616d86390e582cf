using System.Diagnostics;
using System.Diagnostics.Metrics;
using AlignCluster.Runtime.Telemetry;

namespace AlignCluster.Runtime.Tests.Telemetry;

public sealed class TelemetrySetupTests
{
    // Each test uses its own source and meter name (all under AlignCluster.*) so parallel tests never see each other's data.
    private readonly string _name = "AlignCluster.Tests.Telemetry" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public void Spans_are_captured_in_memory_as_a_tree_with_their_attributes()
    {
        using var telemetry = TelemetrySetup.Start(new TelemetryOptions { CaptureInMemory = true });
        using var source = new ActivitySource(_name);
        ActivityTraceId traceId;
        using (var round = source.StartActivity("round"))
        {
            Assert.NotNull(round);
            traceId = round.TraceId;
            round.SetTag("aligncluster.round", 3);
            using (var call = source.StartActivity("IPromptShard/Select", ActivityKind.Client))
            {
                call!.SetTag("rpc.system", "aligncluster");
                call.SetTag("rpc.method", "Select");
                using var server = source.StartActivity("IPromptShard/Select", ActivityKind.Server);
                server!.SetTag("rpc.system", "aligncluster");
            }
            using (source.StartActivity("train")) { }
        }

        var spans = telemetry.Spans!;
        Assert.Equal(4, spans.InTrace(traceId).Count);
        Assert.Equal(
            "round [Internal] aligncluster.round=3\n" +
            "  IPromptShard/Select [Client] rpc.system=aligncluster rpc.method=Select\n" +
            "    IPromptShard/Select [Server] rpc.system=aligncluster\n" +
            "  train [Internal]",
            spans.Tree(traceId));
        var root = Assert.Single(spans.Named("round"));
        Assert.Equal(["IPromptShard/Select", "train"], spans.ChildrenOf(root).Select(s => s.DisplayName));
        Assert.Equal(3, root.GetTagItem("aligncluster.round"));
    }

    [Fact]
    public void Sources_outside_the_configured_names_are_not_recorded()
    {
        using var telemetry = TelemetrySetup.Start(new TelemetryOptions { CaptureInMemory = true, Sources = [_name] });
        using var other = new ActivitySource("Other.Library" + _name);
        using var ours = new ActivitySource(_name);
        Assert.Null(other.StartActivity("ignored")); // no listener for it: no activity at all
        using (ours.StartActivity("kept")) { }
        Assert.Equal(["kept"], telemetry.Spans!.Finished.Select(s => s.DisplayName));
    }

    [Fact]
    public void A_sampling_ratio_of_zero_records_no_new_traces()
    {
        using var telemetry = TelemetrySetup.Start(new TelemetryOptions { CaptureInMemory = true, Sources = [_name], TraceSamplingRatio = 0 });
        using var source = new ActivitySource(_name);
        using (var activity = source.StartActivity("dropped")) Assert.False(activity?.Recorded ?? false);
        Assert.Empty(telemetry.Spans!.Finished);
    }

    /// <summary>Expected values are the plain sums of what the test records: 3 + 4 = 7 for one tag set; 1 + 2 + 3.5 = 6.5 over 3 samples.</summary>
    [Fact]
    public void Metrics_are_captured_through_a_metric_reader()
    {
        using var telemetry = TelemetrySetup.Start(new TelemetryOptions { CaptureInMemory = true });
        using var meter = new Meter(_name);
        var calls = meter.CreateCounter<long>("test.calls");
        var latency = meter.CreateHistogram<double>("test.latency", "ms");
        calls.Add(3, new KeyValuePair<string, object?>("rpc.method", "Select"));
        calls.Add(4, new KeyValuePair<string, object?>("rpc.method", "Select"));
        calls.Add(10, new KeyValuePair<string, object?>("rpc.method", "Train"));
        foreach (var ms in new[] { 1.0, 2.0, 3.5 }) latency.Record(ms);

        var snapshot = telemetry.Metrics!.Collect();
        var callMetric = Assert.Single(snapshot, m => m.Name == "test.calls" && m.MeterName == _name);
        Assert.Equal(7, callMetric.Total(("rpc.method", "Select")));
        Assert.Equal(17, callMetric.Total());
        var latencyPoint = Assert.Single(Assert.Single(snapshot, m => m.Name == "test.latency" && m.MeterName == _name).Points);
        Assert.Equal(3, latencyPoint.HistogramCount);
        Assert.Equal(6.5, latencyPoint.HistogramSum);

        calls.Add(1, new KeyValuePair<string, object?>("rpc.method", "Select"));
        Assert.Equal(8, telemetry.Metrics.Collect().Single(m => m.Name == "test.calls" && m.MeterName == _name).Total(("rpc.method", "Select"))); // cumulative
    }
}
