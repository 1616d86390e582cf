using System.Collections.Concurrent;
using System.Diagnostics;
using OpenTelemetry;

namespace AlignCluster.Runtime.Telemetry;

/// <summary>
/// Keeps every span the TracerProvider finishes, in order of completion, so tests can assert span trees
/// (the OpenTelemetry.Exporter.InMemory package does not restore here).
/// </summary>
/// <remarks>
/// A provider records every matching source in the process; tests running in parallel should look only at their
/// own trace (<see cref="InTrace"/>, with the TraceId of a root activity the test started).
/// </remarks>
public sealed class SpanCapture : BaseProcessor<Activity>
{
    private readonly ConcurrentQueue<Activity> _finished = new();

    /// <summary>Finished spans so far, in order of completion.</summary>
    public IReadOnlyList<Activity> Finished => _finished.ToArray();

    public override void OnEnd(Activity data) => _finished.Enqueue(data);

    /// <summary>Finished spans of one trace.</summary>
    public IReadOnlyList<Activity> InTrace(ActivityTraceId traceId) => _finished.Where(a => a.TraceId == traceId).ToArray();

    /// <summary>Finished spans whose parent is <paramref name="parent"/>, in start order.</summary>
    public IReadOnlyList<Activity> ChildrenOf(Activity parent) =>
        _finished.Where(a => a.TraceId == parent.TraceId && a.ParentSpanId == parent.SpanId).OrderBy(a => a.StartTimeUtc).ToArray();

    /// <summary>Finished spans with this display name.</summary>
    public IReadOnlyList<Activity> Named(string displayName) => _finished.Where(a => a.DisplayName == displayName).ToArray();

    /// <summary>
    /// The trace as indented text, one span per line ("name [kind] key=value ..."), children under their parent in start
    /// order: compact to assert on and readable in a failure message.
    /// </summary>
    public string Tree(ActivityTraceId traceId)
    {
        var spans = InTrace(traceId);
        var ids = spans.Select(s => s.SpanId).ToHashSet();
        var lines = new List<string>();
        void Walk(Activity span, int depth)
        {
            var tags = string.Join(' ', span.TagObjects.Select(t => $"{t.Key}={t.Value}"));
            lines.Add($"{new string(' ', 2 * depth)}{span.DisplayName} [{span.Kind}]{(tags.Length > 0 ? " " + tags : "")}");
            foreach (var child in spans.Where(c => c.ParentSpanId == span.SpanId).OrderBy(c => c.StartTimeUtc)) Walk(child, depth + 1);
        }
        foreach (var root in spans.Where(s => !ids.Contains(s.ParentSpanId)).OrderBy(s => s.StartTimeUtc)) Walk(root, 0);
        return string.Join('\n', lines);
    }

    /// <summary>Forgets the spans captured so far.</summary>
    public void Clear() => _finished.Clear();
}
