using AlignCluster.Runtime.Messaging;

namespace AlignCluster.Runtime.Activation;

/// <summary>
/// A grain timer: each tick is queued as a turn of its activation (exclusive unless Interleave), and the next tick
/// is scheduled only after the callback finished, so ticks never overlap. Stops with its activation.
/// </summary>
internal sealed class GrainTimer : IGrainTimer
{
    private readonly ActivationData _activation;
    private readonly Func<CancellationToken, Task> _callback;
    private readonly GrainTimerCreationOptions _options;
    private readonly Timer _timer;
    private readonly CancellationTokenSource _stopped;
    private TimeSpan _period;
    private int _disposed;

    public GrainTimer(ActivationData activation, Func<CancellationToken, Task> callback, GrainTimerCreationOptions options)
    {
        _activation = activation;
        _callback = callback;
        _options = options;
        _period = options.Period;
        _stopped = CancellationTokenSource.CreateLinkedTokenSource(activation.Lifetime);
        _timer = new Timer(_ => Tick(), null, Timeout.Infinite, Timeout.Infinite);
        _timer.Change(options.DueTime, Timeout.InfiniteTimeSpan);
    }

    public void Change(TimeSpan dueTime, TimeSpan period)
    {
        _period = period;
        if (Volatile.Read(ref _disposed) == 0) _timer.Change(dueTime, Timeout.InfiniteTimeSpan);
    }

    private async void Tick()
    {
        if (Volatile.Read(ref _disposed) != 0) return;
        var done = await _activation.EnqueueTimerTick(RunCallbackAsync, _options.Interleave, _options.KeepAlive).ConfigureAwait(false);
        if (ReferenceEquals(done, ActivationData.Bounced)) { Dispose(); return; }
        if (Volatile.Read(ref _disposed) == 0 && _period != Timeout.InfiniteTimeSpan)
        {
            try { _timer.Change(_period, Timeout.InfiniteTimeSpan); }
            catch (ObjectDisposedException) { }
        }
    }

    private async Task<InvocationResponse> RunCallbackAsync()
    {
        try
        {
            await _callback(_stopped.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException || !_stopped.IsCancellationRequested)
        {
            // A failing tick does not stop the timer (as in Orleans); it is reported.
            _activation.ReportTimerError(e);
        }
        catch (OperationCanceledException)
        {
        }
        return InvocationResponse.Ok(0, default, null);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _timer.Dispose();
        _stopped.Cancel();
        _activation.RemoveTimer(this);
    }
}
