using System.Collections.Concurrent;

namespace AlignCluster.Runtime.Invocation;

/// <summary>
/// Cancellation tokens for per-call timeouts, shared by every call that starts within the same window with the same
/// timeout: a token fires between the timeout and the timeout plus one window after its call started. A window is
/// 1/64 of the timeout, at least 50 ms, so at most ~64 sources per timeout value are pending at any time. One CancellationTokenSource + timer per window instead of one per call (both were a
/// measurable part of a local call's cost: two allocations and a lock on the timer queue, taken twice per call).
/// The callee enforces the exact deadline itself (it travels with the request), so only the caller's
/// <see cref="TimeoutException"/> may come up to one window late.
/// </summary>
internal static class CallDeadlines
{
    private static readonly TimeSpan MinimumWindow = TimeSpan.FromMilliseconds(50);

    /// <summary>How late the token of a call with this timeout may fire.</summary>
    public static TimeSpan Window(TimeSpan timeout) => timeout / 64 > MinimumWindow ? timeout / 64 : MinimumWindow;

    private sealed class Bucket(TimeSpan timeout, CancellationTokenSource source, long openedAt)
    {
        public readonly TimeSpan Timeout = timeout;
        public readonly CancellationTokenSource Source = source;
        public readonly long OpenedAt = openedAt;
        public bool TakesCallsAt(long now, TimeSpan window) => now - OpenedAt < (long)window.TotalMilliseconds;
    }

    private static readonly ConcurrentDictionary<TimeSpan, Bucket> Current = new();
    // The bucket used last: nearly every call has the default timeout, and this skips the dictionary for it.
    private static Bucket? s_last;

    /// <summary>A token that is cancelled no earlier than <paramref name="timeout"/> from now.</summary>
    public static CancellationToken For(TimeSpan timeout)
    {
        long now = Environment.TickCount64;
        var window = Window(timeout);
        var last = Volatile.Read(ref s_last);
        if (last is not null && last.Timeout == timeout && last.TakesCallsAt(now, window)) return last.Source.Token;
        if (Current.TryGetValue(timeout, out var bucket) && bucket.TakesCallsAt(now, window))
        {
            Volatile.Write(ref s_last, bucket);
            return bucket.Source.Token;
        }
        var fresh = new Bucket(timeout, new CancellationTokenSource(), now);
        // The window's last call starts one window after it opened: the timer adds that much so none fires early.
        fresh.Source.CancelAfter(timeout + window);
        Current[timeout] = fresh;   // a racing thread may replace it at once: both buckets stay valid, one is unused
        Volatile.Write(ref s_last, fresh);
        return fresh.Source.Token;
    }
}
