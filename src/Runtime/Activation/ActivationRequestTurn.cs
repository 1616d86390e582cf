using AlignCluster.Runtime.Invocation;
using AlignCluster.Runtime.Messaging;

namespace AlignCluster.Runtime.Activation;

internal sealed partial class ActivationData
{
    /// <summary>
    /// A grain call (a subclass rather than a closure: one object per request instead of three). With
    /// <paramref name="reroute"/>, a bounced request is served again by the silo instead of completing with
    /// <see cref="Bounced"/>, so the silo's fast path can hand the caller this turn's task as it is.
    /// </summary>
    internal sealed class RequestTurn(ActivationData activation, InvocationRequest request, GrainMethod method, CancellationToken cancellationToken, TurnKind kind, bool reroute)
        : Turn(activation, null, kind)
    {
        private CancellationTokenRegistration _giveUp;
        private bool _watching;

        public override ValueTask<InvocationResponse> RunAsync() => Activation.RunRequestAsync(request, method, cancellationToken);

        // The request's token fires at the call's deadline or on the caller's cancellation. Registered only for turns
        // that wait or go asynchronous, not for one that runs to completion at once (the common case): the token is
        // shared by every call of a time window, and each registration takes its lock twice. Without it a caller
        // waited forever behind a grain method that never returned and took no CancellationToken.
        public override void LetCallerGiveUp()
        {
            if (_watching || !cancellationToken.CanBeCanceled) return;
            _watching = true;
            _giveUp = cancellationToken.UnsafeRegister(static (turn, token) => ((RequestTurn)turn!).Completion.TrySetCanceled(token), this);
        }

        public override void Complete(InvocationResponse result)
        {
            // Registered earlier in this turn's own flow (under the activation's lock, or before the turn's await).
            _giveUp.Dispose();
            if (reroute && ReferenceEquals(result, Bounced)) _ = CompleteAfterBounceAsync();
            else Completion.TrySetResult(result);
        }

        private async Task CompleteAfterBounceAsync()
        {
            try { Completion.TrySetResult(await Activation._silo.ServeAfterBounceAsync(Activation, request, cancellationToken).ConfigureAwait(false)); }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { Completion.TrySetCanceled(cancellationToken); }
            catch (Exception e) { Completion.TrySetException(e); }
        }
    }
}
