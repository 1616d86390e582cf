using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace AlignCluster.Runtime.Telemetry;

/// <summary>
/// The runtime's telemetry sources. Subscribe with OpenTelemetry (<c>AddSource("AlignCluster.Runtime")</c>,
/// <c>AddMeter("AlignCluster.Runtime")</c>) or any ActivityListener/MeterListener.
/// </summary>
/// <remarks>
/// Spans: one client span (kind Client) on the caller and one server span (kind Server) on the silo per grain call,
/// named "{interface}/{method}", with rpc.system = "aligncluster", rpc.service = grain interface full name,
/// rpc.method = method name, aligncluster.grain_id; the server span's parent is the client span (traceparent header).
/// Metrics: see the instrument fields.
/// </remarks>
public static class RuntimeDiagnostics
{
    /// <summary>Name of both the ActivitySource and the Meter.</summary>
    public const string Name = "AlignCluster.Runtime";

    /// <summary>Value of rpc.system on grain-call spans.</summary>
    public const string RpcSystem = "aligncluster";

    public static readonly ActivitySource ActivitySource = new(Name, "1.0.0");
    public static readonly Meter Meter = new(Name, "1.0.0");

    /// <summary>Grain calls made by callers (tags: rpc.service, rpc.method, outcome = ok|error|timeout|cancelled).</summary>
    public static readonly Counter<long> CallsSent = Meter.CreateCounter<long>("aligncluster.runtime.calls.sent", "{call}", "Grain calls made");

    /// <summary>Grain calls served by activations on this process's silos (tags: rpc.service, rpc.method).</summary>
    public static readonly Counter<long> CallsServed = Meter.CreateCounter<long>("aligncluster.runtime.calls.served", "{call}", "Grain calls served");

    /// <summary>Caller-side call latency (tags: rpc.service, rpc.method).</summary>
    public static readonly Histogram<double> CallDuration = Meter.CreateHistogram<double>("aligncluster.runtime.call.duration", "ms", "Grain call latency seen by the caller");

    /// <summary>Live activations (+1 on activation, -1 on deactivation; tag: grain.type).</summary>
    public static readonly UpDownCounter<long> Activations = Meter.CreateUpDownCounter<long>("aligncluster.runtime.activations", "{activation}", "Live grain activations");

    /// <summary>Membership snapshots applied (tag: silo.status counts are in the snapshot; this counts changes).</summary>
    public static readonly Counter<long> MembershipChanges = Meter.CreateCounter<long>("aligncluster.runtime.membership.changes", "{change}", "Membership changes seen");
}
