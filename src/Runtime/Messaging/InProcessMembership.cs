namespace AlignCluster.Runtime.Messaging;

/// <summary>Membership for an in-process cluster: the table is a list in memory, changed by the test cluster.</summary>
public sealed class InProcessMembership : IMembershipView
{
    private readonly object _gate = new();
    private MembershipSnapshot _current = MembershipSnapshot.Empty;

    public MembershipSnapshot Current => Volatile.Read(ref _current);

    public event Action<MembershipSnapshot>? Changed;

    /// <summary>Adds a silo or replaces its row (same address).</summary>
    public void Upsert(SiloInfo silo) => Update(rows =>
    {
        var existing = rows.FindIndex(r => r.Address == silo.Address);
        if (existing >= 0 && rows[existing].Status == SiloStatus.Dead && silo.Status != SiloStatus.Dead)
            throw new InvalidOperationException($"Silo {silo.Address} was declared dead and cannot come back; restart it with a new generation.");
        if (existing >= 0) rows[existing] = silo; else rows.Add(silo);
    });

    /// <summary>Sets a known silo's status.</summary>
    public void SetStatus(SiloAddress silo, SiloStatus status) => Update(rows =>
    {
        var i = rows.FindIndex(r => r.Address == silo);
        if (i < 0) throw new InvalidOperationException($"Silo {silo} is not in the membership table.");
        if (rows[i].Status == SiloStatus.Dead && status != SiloStatus.Dead)
            throw new InvalidOperationException($"Silo {silo} was declared dead and cannot come back.");
        rows[i] = rows[i] with { Status = status };
    });

    public Task DeclareDeadAsync(SiloAddress silo, string reason, CancellationToken cancellationToken = default)
    {
        if (Current.StatusOf(silo) is { } s && s != SiloStatus.Dead) SetStatus(silo, SiloStatus.Dead);
        return Task.CompletedTask;
    }

    private void Update(Action<List<SiloInfo>> change)
    {
        MembershipSnapshot next;
        lock (_gate)
        {
            var rows = _current.Silos.ToList();
            change(rows);
            rows.Sort((a, b) => a.Address.CompareTo(b.Address));
            next = new MembershipSnapshot(_current.Version + 1, rows);
            Volatile.Write(ref _current, next);
        }
        Changed?.Invoke(next);
    }
}
