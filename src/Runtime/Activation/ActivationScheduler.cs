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
    private readonly ConcurrentQueue<Task> _queue = new();
    private int _scheduled;

    protected override void QueueTask(Task task)
    {
        _queue.Enqueue(task);
        if (Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0)
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
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
            Volatile.Write(ref _scheduled, 0);
            if (!_queue.IsEmpty && Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0)
                ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    // Inline only when this thread is already the activation's: keeps single-threadedness.
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) =>
        t_running == this && !taskWasPreviouslyQueued && TryExecuteTask(task);

    protected override IEnumerable<Task> GetScheduledTasks() => _queue.ToArray();

    public override int MaximumConcurrencyLevel => 1;
}
