using System.Collections.Concurrent;
using AlignCluster.Runtime.Messaging;
using AlignCluster.Runtime.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AlignCluster.Runtime.Membership;

/// <summary>
/// Orleans' membership protocol for one silo: join (Joining → Active), periodic I-am-alive writes, probes of the
/// successors in the ring (direct, then indirect through another silo), suspicion votes in the table, declare-dead
/// once enough fresh votes agree, and graceful leave (ShuttingDown → Dead). All table writes are compare-and-swap.
/// Exposes the table to the runtime as an <see cref="IMembershipView"/>.
/// </summary>
public sealed class MembershipService : IMembershipView, IAsyncDisposable
{
    private readonly SiloAddress _self;
    private readonly MembershipTable _table;
    private readonly SiloProber _prober;
    private readonly MembershipOptions _options;
    private readonly IReadOnlyList<DeviceInfo> _devices;
    private readonly IReadOnlyDictionary<string, string> _metadata;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<SiloAddress, int> _missedProbes = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private MembershipSnapshot _current = MembershipSnapshot.Empty;
    private int _declaredDeadRaised;
    private volatile bool _leaving;

    public MembershipService(SiloAddress self, MembershipTable table, TransportClient transport, MembershipOptions options,
        IReadOnlyList<DeviceInfo> devices, IReadOnlyDictionary<string, string> metadata, ILogger? log = null)
    {
        options.Validate();
        _self = self;
        _table = table;
        _options = options;
        _devices = devices;
        _metadata = metadata;
        _log = log ?? NullLogger.Instance;
        _prober = new SiloProber(self, transport, options.ProbeTimeout);
    }

    public SiloAddress Self => _self;
    public MembershipSnapshot Current => Volatile.Read(ref _current);
    public event Action<MembershipSnapshot>? Changed;

    /// <summary>Raised once when the cluster declared this silo dead (it must stop: Orleans' silo kills itself).</summary>
    public event Action<string>? DeclaredDead;

    /// <summary>Serves PINGs (route EnvelopeKind.Ping here).</summary>
    public IEnvelopeHandler PingHandler => _prober;

    /// <summary>
    /// Writes this silo's row as Joining and starts heartbeats, probing and table refresh. An older generation still
    /// listed on the same endpoint is declared dead: it was this silo before a restart.
    /// </summary>
    public async Task JoinAsync(CancellationToken cancellationToken)
    {
        var now = DateTime.UtcNow;
        await UpdateAndPublishAsync(table =>
        {
            if (table.Rows.FirstOrDefault(r => r.SiloAddress.SameEndpoint(_self) && r.SiloAddress.Generation >= _self.Generation) is { } newer)
                throw new InvalidOperationException($"membership table {_table.Location} already lists {newer.Address}, a generation not older than {_self}");
            foreach (var old in table.Rows.Where(r => r.SiloAddress.SameEndpoint(_self) && r.Status != SiloStatus.Dead))
                old.Status = SiloStatus.Dead;
            table.Rows.Add(new MembershipRow
            {
                Address = _self.ToString(), Status = SiloStatus.Joining, Devices = _devices.ToList(),
                Metadata = new Dictionary<string, string>(_metadata), StartTime = now, IAmAliveTime = now,
            });
            table.Version++;
            return true;
        }, cancellationToken).ConfigureAwait(false);
        _log.LogInformation("silo {Silo} joined the membership table {Table}", _self, _table.Location);
        _loops.Add(RunPeriodicallyAsync(_options.IAmAliveInterval, WriteIAmAliveAsync));
        _loops.Add(RunPeriodicallyAsync(_options.TableRefreshInterval, RefreshAsync));
        _loops.Add(RunPeriodicallyAsync(_options.ProbeInterval, ProbeSuccessorsAsync));
    }

    /// <summary>Marks this silo Active (after its runtime is ready to serve calls).</summary>
    public Task BecomeActiveAsync(CancellationToken cancellationToken) => SetOwnStatusAsync(SiloStatus.Active, cancellationToken);

    /// <summary>Graceful leave, step 1: ShuttingDown (placement stops choosing this silo; calls still served).</summary>
    public Task BeginLeaveAsync(CancellationToken cancellationToken)
    {
        _leaving = true;
        return SetOwnStatusAsync(SiloStatus.ShuttingDown, cancellationToken);
    }

    /// <summary>Graceful leave, step 2: stops the protocol and marks this silo Dead (its endpoint may rejoin with a new generation).</summary>
    public async Task LeaveAsync(CancellationToken cancellationToken)
    {
        _leaving = true;
        await StopLoopsAsync().ConfigureAwait(false);
        await SetOwnStatusAsync(SiloStatus.Dead, cancellationToken).ConfigureAwait(false);
        _log.LogDebug("silo {Silo} marked itself Dead in the table", _self);
    }

    private Task SetOwnStatusAsync(SiloStatus status, CancellationToken cancellationToken) => UpdateAndPublishAsync(table =>
    {
        var row = table.Find(_self) ?? throw new InvalidOperationException($"silo {_self} is not in membership table {_table.Location}");
        if (row.Status == status) return false;
        if (row.Status == SiloStatus.Dead)
            throw new InvalidOperationException($"silo {_self} was declared dead by the cluster and cannot become {status}; restart it (new generation)");
        row.Status = status;
        table.Version++;
        return true;
    }, cancellationToken);

    public async Task DeclareDeadAsync(SiloAddress silo, string reason, CancellationToken cancellationToken = default)
    {
        // Verify first: a failed call alone is not proof (the runtime may see a transient error).
        if (silo == _self || await _prober.ProbeAsync(silo, cancellationToken).ConfigureAwait(false)) return;
        _log.LogWarning("runtime reported {Silo} unreachable ({Reason}); probe failed too, voting", silo, reason);
        await VoteAsync(silo, cancellationToken).ConfigureAwait(false);
    }

    private Task WriteIAmAliveAsync(CancellationToken cancellationToken) => _table.UpdateAsync(table =>
    {
        var row = table.Find(_self);
        if (row is null || row.Status == SiloStatus.Dead) return false;
        row.IAmAliveTime = DateTime.UtcNow;   // not a membership change: the version stays
        return true;
    }, cancellationToken);

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var (table, _) = await _table.ReadAsync(cancellationToken).ConfigureAwait(false);
        Publish(table);
    }

    /// <summary>Probes up to NumProbedSilos successors of this silo in address order; suspects those that keep missing.</summary>
    private async Task ProbeSuccessorsAsync(CancellationToken cancellationToken)
    {
        var ring = Current.Silos.Where(s => s.Status is SiloStatus.Active or SiloStatus.ShuttingDown || s.Address == _self)
            .Select(s => s.Address).OrderBy(a => a).ToList();
        int me = ring.IndexOf(_self);
        if (me < 0) return;
        var targets = Enumerable.Range(1, Math.Min(_options.NumProbedSilos, ring.Count - 1)).Select(i => ring[(me + i) % ring.Count]).ToList();
        foreach (var gone in _missedProbes.Keys.Except(targets)) _missedProbes.TryRemove(gone, out _);
        await Task.WhenAll(targets.Select(t => ProbeOneAsync(t, ring, cancellationToken))).ConfigureAwait(false);
    }

    private async Task ProbeOneAsync(SiloAddress target, IReadOnlyList<SiloAddress> ring, CancellationToken cancellationToken)
    {
        if (await _prober.ProbeAsync(target, cancellationToken).ConfigureAwait(false))
        {
            _missedProbes[target] = 0;
            return;
        }
        int missed = _missedProbes.AddOrUpdate(target, 1, (_, n) => n + 1);
        _log.LogDebug("probe of {Target} missed ({Missed}/{Limit})", target, missed, _options.MissedProbesLimit);
        if (missed < _options.MissedProbesLimit) return;
        if (_options.IndirectProbes && ring.Where(s => s != _self && s != target).OrderBy(_ => Random.Shared.Next()).FirstOrDefault() is { } helper)
        {
            if (await _prober.ProbeIndirectlyAsync(helper, target, cancellationToken).ConfigureAwait(false))
            {
                _log.LogWarning("{Target} missed {Missed} direct probes but answered {Helper}: not voting", target, missed, helper);
                _missedProbes[target] = 0;
                return;
            }
        }
        await VoteAsync(target, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Adds (or refreshes) this silo's suspicion vote; declares the target dead once enough fresh votes agree.</summary>
    private Task VoteAsync(SiloAddress target, CancellationToken cancellationToken) => UpdateAndPublishAsync(table =>
    {
        var row = table.Find(target);
        if (row is null || row.Status == SiloStatus.Dead) return false;
        var now = DateTime.UtcNow;
        row.Suspicions.RemoveAll(v => v.Voter == _self.ToString() || now - v.Time > _options.DeathVoteExpiration);
        row.Suspicions.Add(new SuspectVote(_self.ToString(), now));
        // Voters are live silos other than the target; a silo whose I-am-alive is stale cannot be waited for.
        var staleAfter = _options.IAmAliveInterval * 3;
        int voters = table.Rows.Count(r => r.Status is SiloStatus.Active or SiloStatus.ShuttingDown && r.Address != row.Address
                                           && (r.Address == _self.ToString() || now - r.IAmAliveTime < staleAfter));
        int needed = Math.Max(1, Math.Min(_options.NumVotesForDeathDeclaration, voters));
        if (row.Suspicions.Count >= needed)
        {
            row.Status = SiloStatus.Dead;
            _log.LogWarning("declaring {Target} dead: {Votes} suspicion votes ({Voters})", target, row.Suspicions.Count,
                string.Join(", ", row.Suspicions.Select(v => v.Voter)));
        }
        else _log.LogWarning("suspecting {Target}: {Votes}/{Needed} votes", target, row.Suspicions.Count, needed);
        table.Version++;
        return true;
    }, cancellationToken);

    private async Task UpdateAndPublishAsync(Func<MembershipTableData, bool> change, CancellationToken cancellationToken)
    {
        var table = await _table.UpdateAsync(change, cancellationToken).ConfigureAwait(false);
        Publish(table);
    }

    /// <summary>Replaces <see cref="Current"/> when the table is newer; notices when the cluster declared us dead.</summary>
    private void Publish(MembershipTableData table)
    {
        MembershipSnapshot next;
        lock (_stop)
        {
            if (table.Version <= _current.Version) return;
            next = table.ToSnapshot();
            Volatile.Write(ref _current, next);
        }
        if (!_leaving && next.StatusOf(_self) == SiloStatus.Dead && Interlocked.Exchange(ref _declaredDeadRaised, 1) == 0)
        {
            _log.LogError("silo {Silo} was declared dead by the cluster", _self);
            DeclaredDead?.Invoke($"silo {_self} was declared dead by the cluster");
        }
        try { Changed?.Invoke(next); }
        catch (Exception e) { _log.LogError(e, "a membership Changed handler threw"); }
    }

    private async Task RunPeriodicallyAsync(TimeSpan period, Func<CancellationToken, Task> work)
    {
        using var timer = new PeriodicTimer(period);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                try { await work(_stop.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) when (_stop.IsCancellationRequested) { return; }
                catch (Exception e) { _log.LogWarning("membership {Work} failed: {Error}", work.Method.Name, e.Message); }
            }
        }
        catch (OperationCanceledException) { }
    }

    private async Task StopLoopsAsync()
    {
        if (!_stop.IsCancellationRequested) _stop.Cancel();
        await Task.WhenAll(_loops).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopLoopsAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}
