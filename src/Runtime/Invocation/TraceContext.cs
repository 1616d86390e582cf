using System.Diagnostics;
using AlignCluster.Runtime.Telemetry;

namespace AlignCluster.Runtime.Invocation;

/// <summary>W3C trace context in call headers, and the client/server spans of a grain call.</summary>
internal static class TraceContext
{
    public const string TraceParent = "traceparent";
    public const string TraceState = "tracestate";

    /// <summary>Starts the caller's span (null when nobody listens).</summary>
    public static Activity? StartClientSpan(GrainMethod method, Messaging.GrainId target) =>
        Tag(RuntimeDiagnostics.ActivitySource.StartActivity(method.SpanName, ActivityKind.Client), method, target);

    /// <summary>Starts the callee's span as a child of the traceparent in <paramref name="headers"/>.</summary>
    public static Activity? StartServerSpan(GrainMethod method, Messaging.GrainId target, IReadOnlyDictionary<string, string> headers)
    {
        if (!RuntimeDiagnostics.ActivitySource.HasListeners()) return null;
        ActivityContext parent = default;
        if (headers.TryGetValue(TraceParent, out var tp))
            ActivityContext.TryParse(tp, headers.GetValueOrDefault(TraceState), isRemote: true, out parent);
        return Tag(RuntimeDiagnostics.ActivitySource.StartActivity(method.SpanName, ActivityKind.Server, parent), method, target);
    }

    /// <summary>Headers carrying the current trace context, or the shared empty dictionary when there is none.</summary>
    public static IReadOnlyDictionary<string, string> Inject(Activity? current)
    {
        if (current is null || current.IdFormat != ActivityIdFormat.W3C) return Messaging.InvocationRequest.EmptyHeaders;
        var headers = new Dictionary<string, string>(2, StringComparer.Ordinal) { [TraceParent] = current.Id! };
        if (current.TraceStateString is { Length: > 0 } ts) headers[TraceState] = ts;
        return headers;
    }

    private static Activity? Tag(Activity? a, GrainMethod method, Messaging.GrainId target)
    {
        if (a is null) return null;
        a.SetTag("rpc.system", RuntimeDiagnostics.RpcSystem);
        a.SetTag("rpc.service", method.InterfaceName);
        a.SetTag("rpc.method", method.Name);
        a.SetTag("aligncluster.grain_id", target.ToString());
        return a;
    }
}
