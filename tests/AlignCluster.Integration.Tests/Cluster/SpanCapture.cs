using System.Collections.Concurrent;
using System.Diagnostics;

namespace AlignCluster.Integration.Tests.Cluster;

/// <summary>
/// Every span of our sources (AlignCluster.*) and Orleans' (Microsoft.Orleans.*: grain calls, client and server side,
/// once activity propagation is on) that finished while this capture was alive, from any thread of the process.
/// </summary>
internal sealed class SpanCapture : IDisposable
{
    private readonly ActivityListener _listener;
    private readonly ConcurrentQueue<Activity> _finished = new();

    public SpanCapture()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = s =>
                s.Name.StartsWith("AlignCluster.", StringComparison.Ordinal)
                || s.Name.StartsWith("Microsoft.Orleans.", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _finished.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public IReadOnlyCollection<Activity> Finished => [.. _finished];

    public void Dispose() => _listener.Dispose();
}
