using AlignCluster.Runtime.Messaging;
using AlignCluster.Runtime.Protos;
using AlignCluster.Runtime.Transport;

namespace AlignCluster.Runtime.Membership;

/// <summary>
/// A client's membership view: polls the gateways (in order, skipping unreachable ones) for the table. Clients do not
/// vote; <see cref="DeclareDeadAsync"/> only triggers an early refresh.
/// </summary>
public sealed class GatewayMembershipView : IMembershipView, IAsyncDisposable
{
    private readonly TransportClient _transport;
    private readonly IReadOnlyList<string> _gateways;
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private MembershipSnapshot _current = MembershipSnapshot.Empty;

    /// <param name="gateways">"host:port" endpoints of silos' gateways.</param>
    public GatewayMembershipView(TransportClient transport, IReadOnlyList<string> gateways)
    {
        if (gateways.Count == 0) throw new ArgumentException("at least one gateway endpoint (host:port) is required", nameof(gateways));
        _transport = transport;
        _gateways = gateways;
    }

    public MembershipSnapshot Current => Volatile.Read(ref _current);
    public event Action<MembershipSnapshot>? Changed;

    /// <summary>Fetches the first view (failing with the gateways' errors if none answers) and starts polling.</summary>
    public async Task StartAsync(TimeSpan refreshInterval, CancellationToken cancellationToken)
    {
        await RefreshAsync(cancellationToken).ConfigureAwait(false);
        _loop = PollAsync(refreshInterval);
    }

    public Task DeclareDeadAsync(SiloAddress silo, string reason, CancellationToken cancellationToken = default) =>
        RefreshAsync(cancellationToken);

    /// <summary>Asks the gateways in turn for the table; throws <see cref="PeerUnavailableException"/> listing every failure.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        foreach (var gateway in _gateways)
        {
            try
            {
                var response = await _transport.SendAsync(gateway, new Envelope { Kind = EnvelopeKind.Membership }, cancellationToken).ConfigureAwait(false);
                if (response.Error is { } error) { failures.Add($"{gateway}: {error.Message}"); continue; }
                Publish(MembershipGateway.FromWire(response.Membership));
                return;
            }
            catch (Exception e) when (e is PeerUnavailableException or ClusterAuthenticationException)
            {
                failures.Add(e.Message);
            }
        }
        throw new PeerUnavailableException("no gateway answered: " + string.Join("; ", failures));
    }

    private void Publish(MembershipSnapshot next)
    {
        lock (_stop)
        {
            if (next.Version <= _current.Version) return;
            Volatile.Write(ref _current, next);
        }
        Changed?.Invoke(next);
    }

    private async Task PollAsync(TimeSpan interval)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                try { await RefreshAsync(_stop.Token).ConfigureAwait(false); }
                catch (PeerUnavailableException) { }   // keep the last view; the next tick tries again
            }
        }
        catch (OperationCanceledException) { }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
