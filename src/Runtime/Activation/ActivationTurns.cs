using AlignCluster.Runtime.Invocation;
using AlignCluster.Runtime.Messaging;

namespace AlignCluster.Runtime.Activation;

/// <summary>
/// Turn-based concurrency of one activation. A turn is a request, a timer tick, or a lifecycle step:
/// <list type="bullet">
/// <item>Lifecycle turns (activate, deactivate) run alone, after every earlier turn has finished.</item>
/// <item>Exclusive turns (requests to non-reentrant grains, timer ticks) run only when no other turn runs, FIFO.</item>
/// <item>Interleaving turns (requests to [Reentrant] grains, [AlwaysInterleave] methods, interleaving timers)
/// start as soon as the activation is active, between the awaits of other turns.</item>
/// </list>
/// All turns execute on the activation's <see cref="ActivationScheduler"/>, so grain code is single-threaded.
/// Once deactivation is queued, new turns are bounced (<see cref="Bounced"/>) and the silo re-routes them.
/// </summary>
internal sealed partial class ActivationData
{
    /// <summary>Returned for a turn the activation will not run because it is deactivating.</summary>
    public static readonly InvocationResponse Bounced = InvocationResponse.Rejected(0, RejectionReasons.NotHere, "activation is deactivating");

    internal enum TurnKind { Lifecycle, Exclusive, Interleave }

    private enum Phase { Activating, Active, Deactivating, Dead }

    /// <summary>A lifecycle step or timer tick: runs a delegate.</summary>
    internal class Turn(ActivationData activation, Func<Task<InvocationResponse>>? body, TurnKind kind)
    {
        public readonly ActivationData Activation = activation;
        public readonly TurnKind Kind = kind;
        public readonly TaskCompletionSource<InvocationResponse> Completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public virtual ValueTask<InvocationResponse> RunAsync() => new(body!());

        /// <summary>Hands the turn's outcome to whoever waits for it.</summary>
        public virtual void Complete(InvocationResponse result) => Completion.TrySetResult(result);

        /// <summary>Called when the turn waits in the mailbox or runs past an await: from then on its caller must be
        /// able to give up (per-call timeout, cancellation) although the turn has not finished.</summary>
        public virtual void LetCallerGiveUp() { }
    }

    // Starts a turn on the activation's scheduler (so TaskScheduler.Current is the activation's for all its awaits).
    private static readonly Action<object?> RunTurnOnScheduler = state =>
    {
        var turn = (Turn)state!;
        _ = turn.Activation.RunTurnAsync(turn);
    };

    private readonly object _gate = new();
    private readonly LinkedList<Turn> _waiting = new();
    private Phase _phase = Phase.Activating;
    // The activation turn counts as running from construction: the silo publishes an activation in its table before
    // Start() dispatches that turn, and a request that finds it in between must wait behind it (it once ran first,
    // on a grain not yet constructed: "Non-static method requires a target").
    private int _running = 1;
    private bool _lifecycleRunning = true;

    /// <summary>True until deactivation is queued.</summary>
    public bool AcceptsTurns { get { lock (_gate) return _phase < Phase.Deactivating; } }

    /// <summary>Queues the deactivation turn (once); from now on new turns are bounced.</summary>
    internal Task<InvocationResponse>? EnqueueDeactivation(Turn turn)
    {
        lock (_gate)
        {
            if (_phase >= Phase.Deactivating) return null;
            _phase = Phase.Deactivating;
        }
        return Enqueue(turn);
    }

    /// <summary>Queues a turn; the task completes with the turn's response, or <see cref="Bounced"/>.</summary>
    internal Task<InvocationResponse> Enqueue(Turn turn)
    {
        lock (_gate)
        {
            if (_phase >= Phase.Deactivating && turn.Kind != TurnKind.Lifecycle)
            {
                turn.Complete(Bounced);
                return turn.Completion.Task;
            }
            if ((turn.Kind == TurnKind.Interleave || _waiting.Count == 0) && CanStart(turn)) Start(turn);
            else
            {
                _waiting.AddLast(turn);
                turn.LetCallerGiveUp();
            }
        }
        return turn.Completion.Task;
    }

    private bool CanStart(Turn turn) => turn.Kind switch
    {
        TurnKind.Interleave => _phase is Phase.Active or Phase.Deactivating && !_lifecycleRunning,
        _ => _running == 0,
    };

    private void Start(Turn turn)
    {
        _running++;
        if (turn.Kind == TurnKind.Lifecycle) _lifecycleRunning = true;
        Dispatch(turn);
    }

    private void Dispatch(Turn turn) =>
        Task.Factory.StartNew(RunTurnOnScheduler, turn, CancellationToken.None, TaskCreationOptions.DenyChildAttach, Scheduler);

    private async Task RunTurnAsync(Turn turn)
    {
        InvocationResponse result;
        try
        {
            var running = turn.RunAsync();
            if (!running.IsCompleted) turn.LetCallerGiveUp();
            result = await running;
        }
        catch (Exception e)
        {
            result = InvocationResponse.Error(0, e.GetType().FullName!, e.Message);
        }
        List<Turn>? bounced = null;
        lock (_gate)
        {
            _running--;
            if (turn.Kind == TurnKind.Lifecycle) _lifecycleRunning = false;
            if (_phase == Phase.Dead) { bounced = [.. _waiting]; _waiting.Clear(); }
            else Pump();
        }
        turn.Complete(result);
        if (bounced is not null)
            foreach (var t in bounced) t.Complete(_activationError is null || t.Kind == TurnKind.Lifecycle ? Bounced : ActivationFailedResponse());
    }

    // Starts waiting turns that may run now: every startable interleaving turn, and the first exclusive/lifecycle
    // turn if nothing runs (FIFO among those).
    private void Pump()
    {
        bool exclusiveBlocked = false;
        for (var node = _waiting.First; node is not null;)
        {
            var next = node.Next;
            var turn = node.Value;
            bool interleave = turn.Kind == TurnKind.Interleave;
            if ((interleave || !exclusiveBlocked) && CanStart(turn))
            {
                _waiting.Remove(node);
                Start(turn);
            }
            else if (!interleave) exclusiveBlocked = true; // FIFO among exclusive and lifecycle turns
            node = next;
        }
    }

    /// <summary>Activating → Active, unless deactivation was queued meanwhile.</summary>
    private void MarkActive()
    {
        lock (_gate) if (_phase == Phase.Activating) _phase = Phase.Active;
    }

    /// <summary>Final, for a crash: returns the waiting turns (the caller bounces them; running turns finish unobserved).</summary>
    private List<Turn> MarkDeadAndTakeWaiting()
    {
        lock (_gate)
        {
            _phase = Phase.Dead;
            List<Turn> waiting = [.. _waiting];
            _waiting.Clear();
            return waiting;
        }
    }

    /// <summary>Final: the activation runs nothing more; waiting turns are bounced when the current turn ends.</summary>
    private void MarkDead()
    {
        lock (_gate) _phase = Phase.Dead;
    }
}
