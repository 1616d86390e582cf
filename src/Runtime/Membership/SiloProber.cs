using AlignCluster.Runtime.Messaging;
using AlignCluster.Runtime.Protos;
using AlignCluster.Runtime.Transport;

namespace AlignCluster.Runtime.Membership;

/// <summary>
/// Liveness probes over the transport: a direct PING to a silo, an indirect PING that asks an intermediary silo to
/// probe the target for us, and the serving side of both. A PING names the exact silo (generation included) it
/// expects, so a restarted silo on the same endpoint does not answer for its dead predecessor.
/// </summary>
public sealed class SiloProber(SiloAddress self, TransportClient transport, TimeSpan timeout) : IEnvelopeHandler
{
    /// <summary>True when <paramref name="target"/> answered a PING within the timeout.</summary>
    public Task<bool> ProbeAsync(SiloAddress target, CancellationToken cancellationToken) =>
        SendPingAsync(target, new Envelope { Kind = EnvelopeKind.Ping, SourceSilo = self.ToString(), TargetSilo = target.ToString() },
            timeout, cancellationToken);

    /// <summary>Asks <paramref name="intermediary"/> to probe <paramref name="target"/>; true only when it reports success.</summary>
    public Task<bool> ProbeIndirectlyAsync(SiloAddress intermediary, SiloAddress target, CancellationToken cancellationToken) =>
        SendPingAsync(intermediary, new Envelope
        {
            Kind = EnvelopeKind.Ping, SourceSilo = self.ToString(), TargetSilo = intermediary.ToString(), ProbeSilo = target.ToString(),
        }, timeout * 2, cancellationToken);   // the intermediary spends up to one timeout on its own probe

    private async Task<bool> SendPingAsync(SiloAddress to, Envelope ping, TimeSpan limit, CancellationToken cancellationToken)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(limit);
        try
        {
            var response = await transport.SendAsync($"{to.Host}:{to.Port}", ping, timer.Token).ConfigureAwait(false);
            return response.Error is null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;   // timed out
        }
        catch (Exception e) when (e is PeerUnavailableException or ClusterAuthenticationException)
        {
            return false;
        }
    }

    /// <summary>Answers a PING: directly, or by probing <see cref="Envelope.ProbeSilo"/> on the sender's behalf.</summary>
    public async ValueTask<Envelope?> HandleAsync(Envelope request, CancellationToken cancellationToken)
    {
        if (request.TargetSilo.Length > 0 && request.TargetSilo != self.ToString())
            return Envelopes.Failure(request, GrpcStatus.NotFound, $"silo {request.TargetSilo} is not here; this is {self}");
        if (request.ProbeSilo.Length == 0) return Envelopes.Success(request);
        SiloAddress target;
        try { target = SiloAddress.Parse(request.ProbeSilo); }
        catch (FormatException e) { return Envelopes.Failure(request, GrpcStatus.InvalidArgument, e.Message); }
        return await ProbeAsync(target, cancellationToken).ConfigureAwait(false)
            ? Envelopes.Success(request)
            : Envelopes.Failure(request, GrpcStatus.Unavailable, $"{self} could not reach {target} either");
    }
}
