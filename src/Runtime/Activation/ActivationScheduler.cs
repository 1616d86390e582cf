using System.Collections.Concurrent;

namespace AlignCluster.Runtime.Activation;

/// <summary>
/// Runs an activation's tasks one at a time on the thread pool, in FIFO order. Grain code started on it, and every
/// continuation of its awaits (which capture <see cref="TaskScheduler.Current"/>), therefore never runs on two
/// threads at once — even for reentrant grains, whose requests interleave only at awaits.
/// </summary>
internal sealed class ActivationScheduler : TaskScheduler, IThreadPoolWorkItem
{
    [ThreadStatic] private static ActivationScheduler? t_running;
    private static readonly Action<IThreadPoolWorkItem> ToThreadPool = item => ThreadPool.UnsafeQueueUserWorkItem(item, preferLocal: false);
    private readonly ConcurrentQueue<Task> _queue = new();
    private readonly Action<IThreadPoolWorkItem> _dispatch;
    private int _scheduled;

    public ActivationScheduler() : this(ToThreadPool) { }

    /// <summary>With another <paramref name="dispatch"/> than the thread pool: tests run the worker on a thread of their own.</summary>
    internal ActivationScheduler(Action<IThreadPoolWorkItem> dispatch) => _dispatch = dispatch;

    protected override void QueueTask(Task task)
    {
        _queue.Enqueue(task);
        if (Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0) _dispatch(this);
    }

    void IThreadPoolWorkItem.Execute()
    {
        t_running = this;
        try
        {
            // Bounded batch so one busy activation cannot starve the pool's other work.
            for (int n = 0; n < 64 && _queue.TryDequeue(out var task); n++) TryExecuteTask(task);
        }
        finally
        {
            t_running = null;
            // A full fence, not Volatile.Write: a release store may be overtaken by the IsEmpty read below (x64 lets
            // a load pass an earlier store), and a task queued meanwhile by another thread, whose QueueTask still saw
            // the flag set, would then never run — the activation's turn stalls for good (the hot-grain bench hang).
            Interlocked.Exchange(ref _scheduled, 0);
            if (!_queue.IsEmpty && Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0) _dispatch(this);
        }
    }

    // Inline only when this thread is already the activation's: keeps single-threadedness.
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) =>
        t_running == this && !taskWasPreviouslyQueued && TryExecuteTask(task);

    protected override IEnumerable<Task> GetScheduledTasks() => _queue.ToArray();

    public override int MaximumConcurrencyLevel => 1;
}
