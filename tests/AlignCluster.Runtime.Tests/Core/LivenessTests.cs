using AlignCluster.Runtime.Activation;

namespace AlignCluster.Runtime.Tests.Core;

public interface IHotGrain : IGrainWithStringKey
{
    Task<int> Add(int value);
}

public sealed class HotGrain : Grain, IHotGrain
{
    private int _total;
    public Task<int> Add(int value) => Task.FromResult(_total += value);
}

public interface IStuckGrain : IGrainWithStringKey
{
    /// <summary>Never completes and takes no CancellationToken: only the caller can end the call.</summary>
    [ResponseTimeout("00:00:00.3")]
    Task Hang();
}

public sealed class StuckGrain : Grain, IStuckGrain
{
    private static readonly TaskCompletionSource Never = new();
    public Task Hang() => Never.Task;
}

/// <summary>
/// Regression tests for a lost wake-up in <see cref="ActivationScheduler"/>: its worker cleared its "scheduled" flag
/// with a plain (release) store and then read the queue; x64 may let that read pass the store, so a task queued by
/// another thread at that moment saw the flag still set, the worker saw the queue empty, and the task was never run
/// — the activation's turn never finished and every later call to the grain waited forever. No assertion here is
/// about speed: the deadlines only turn a hang into a failure.
/// </summary>
public class LivenessTests
{
    private static readonly TimeSpan HangDeadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task SchedulerRunsATaskQueuedJustAsItsWorkerDrains()
    {
        // The scheduler's worker runs on a thread of its own that spins for work (the thread pool would park it, and
        // waking it costs far more than the race window). A second thread plays the foreign caller: it waits for the
        // worker to finish a task and queues the next one at once, with a varying short delay, so that the queueing
        // sweeps across the worker's end-of-batch window. Both threads spin, so the window is hit often.
        using var worker = new SpinningWorker();
        var run = Task.Factory.StartNew(() =>
        {
            var factory = new TaskFactory(CancellationToken.None, TaskCreationOptions.DenyChildAttach, TaskContinuationOptions.None, new ActivationScheduler(worker.Dispatch));
            var random = new Random(5);
            for (int i = 0; i < Iterations; i++)
            {
                if (!SpinUntilRun(factory.StartNew(static () => { }))) return $"iteration {i}: a queued task never ran";
                Thread.SpinWait(random.Next(8));
                if (!SpinUntilRun(factory.StartNew(static () => { }))) return $"iteration {i}: a queued task never ran";
            }
            return null;
        }, TaskCreationOptions.LongRunning);
        Assert.Null(await run);
    }

    private const int Iterations = 1_000_000;

    private static bool SpinUntilRun(Task task)
    {
        long giveUp = Environment.TickCount64 + (long)HangDeadline.TotalMilliseconds;
        for (int spins = 0; !task.IsCompleted; spins++)
        {
            if (spins % 1024 == 0 && Environment.TickCount64 > giveUp) return false;
            Thread.SpinWait(1);
        }
        return true;
    }

    /// <summary>Runs the work items handed to <see cref="Dispatch"/> on one dedicated thread that never parks.</summary>
    private sealed class SpinningWorker : IDisposable
    {
        private readonly Thread _thread;
        private IThreadPoolWorkItem? _next;
        private volatile bool _stop;

        public SpinningWorker()
        {
            _thread = new Thread(() =>
            {
                while (!_stop)
                {
                    if (Interlocked.Exchange(ref _next, null) is { } item) item.Execute();
                    else Thread.SpinWait(1);
                }
            }) { IsBackground = true };
            _thread.Start();
        }

        // The scheduler hands out at most one work item at a time, so one slot is enough.
        public void Dispatch(IThreadPoolWorkItem item) => Volatile.Write(ref _next, item);

        public void Dispose()
        {
            _stop = true;
            _thread.Join();
        }
    }

    [Fact]
    public async Task BurstsOfConcurrentCallsOnOneGrainAllComplete()
    {
        await using var cluster = await Fixture.StartAsync(1);
        var grain = cluster.Client.GetGrain<IHotGrain>("hot");
        int expected = 0;
        // Like the bench's "1 grain, 64 in flight": 64 callers each making calls back to back, for many rounds.
        for (int round = 0; round < 200; round++)
        {
            var callers = Enumerable.Range(0, 64).Select(_ => Task.Run(async () =>
            {
                for (int c = 0; c < 20; c++) await grain.Add(1);
            }));
            var all = Task.WhenAll(callers);
            if (await Task.WhenAny(all, Task.Delay(HangDeadline)) != all)
                Assert.Fail($"round {round}: calls on one hot grain stopped making progress");
            expected += 64 * 20;
        }
        Assert.Equal(expected + 1, await grain.Add(1));
    }

    [Fact]
    public async Task A_call_whose_grain_never_answers_times_out_even_without_a_cancellation_token()
    {
        var cluster = await Fixture.StartAsync(1);
        try
        {
            var grain = cluster.Client.GetGrain<IStuckGrain>("stuck");
            var running = grain.Hang();
            var queued = grain.Hang();   // waits behind the first in the activation's mailbox
            foreach (var call in new[] { running, queued })
            {
                var failure = await Record.ExceptionAsync(() => call.WaitAsync(HangDeadline));
                // The runtime's TimeoutException names the call (WaitAsync's own would mean the call hung).
                Assert.IsType<TimeoutException>(failure);
                Assert.Contains($"{typeof(IStuckGrain).FullName}.{nameof(IStuckGrain.Hang)}", failure.Message);
            }
        }
        finally
        {
            // A graceful stop would wait the deactivation timeout (30 s) for the stuck turn: crash the silo instead.
            await cluster.KillSiloAsync(cluster.Silos[0]);
            await cluster.DisposeAsync();
        }
    }

    /// <summary>
    /// A graceful stop with a turn that never ends: the silo abandons that activation after the deactivation timeout
    /// (reporting it) instead of waiting forever, while a well-behaved grain on the same silo still deactivates and
    /// persists as usual. The 20 s guard only turns a hang into a failure.
    /// </summary>
    [Fact]
    public async Task A_graceful_stop_abandons_an_activation_whose_turn_never_ends_after_the_deactivation_timeout()
    {
        var reports = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var options = Fixture.Options();
        options.DeactivationTimeout = TimeSpan.FromMilliseconds(300);
        options.ResponseTimeout = TimeSpan.FromMinutes(5);
        options.Log = reports.Enqueue;
        var cluster = await Fixture.StartAsync(1, options);
        var stuck = cluster.Client.GetGrain<IStuckGrain>("stuck-at-stop");
        var hanging = stuck.Hang();
        var hot = cluster.Client.GetGrain<IHotGrain>("fine-at-stop");
        Assert.Equal(1, await hot.Add(1));
        await Fixture.WaitUntil(() => cluster.Silos[0].ActivationCount == 2, "both grains active");

        await cluster.StopSiloAsync(cluster.Silos[0]).WaitAsync(HangDeadline);
        Assert.Contains(reports, r => r.Contains("stuck-at-stop") && r.Contains("did not deactivate"));
        Assert.DoesNotContain(reports, r => r.Contains("fine-at-stop"));
        Assert.Equal(0, cluster.Silos.Count);
        await cluster.Client.DisposeAsync();
        _ = hanging; // its silo is gone; the call ends with the client
    }
}
