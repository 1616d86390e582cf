namespace AlignCluster.Runtime.Membership;

/// <summary>
/// Timing of Orleans' membership protocol. With the defaults a crashed silo is declared dead within about
/// MissedProbesLimit × (ProbeInterval + ProbeTimeout) + 2 × ProbeTimeout (indirect probe) + a table write ≈ 13 s, and
/// the other silos see it within one more TableRefreshInterval (tests allow 45 s on a loaded 2-core machine). A killed
/// process usually refuses connections at once, so probes fail fast and detection takes about 4 s.
/// </summary>
public sealed record MembershipOptions
{
    /// <summary>Cluster name; the membership table's key in the store (letters, digits, '-', '_').</summary>
    public string ClusterId { get; init; } = "default";
    /// <summary>How often each silo probes its successors in the ring.</summary>
    public TimeSpan ProbeInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>How long a probe may take before it counts as missed.</summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>How many silos each silo probes (its successors in address order).</summary>
    public int NumProbedSilos { get; init; } = 3;
    /// <summary>Consecutive missed probes before the prober suspects the target.</summary>
    public int MissedProbesLimit { get; init; } = 3;
    /// <summary>Before voting, ask another live silo to probe the target (indirect probe): a broken link alone does not kill.</summary>
    public bool IndirectProbes { get; init; } = true;
    /// <summary>Suspicion votes needed to declare a silo dead (capped by the number of live voters).</summary>
    public int NumVotesForDeathDeclaration { get; init; } = 2;
    /// <summary>Votes older than this no longer count.</summary>
    public TimeSpan DeathVoteExpiration { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>How often a silo writes its I-am-alive timestamp.</summary>
    public TimeSpan IAmAliveInterval { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>How often a silo re-reads the table to learn of joins, leaves and deaths.</summary>
    public TimeSpan TableRefreshInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Throws naming the first invalid setting.</summary>
    public void Validate()
    {
        if (ClusterId.Length == 0 || !ClusterId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            throw new ArgumentException($"membership.clusterId '{ClusterId}' must be non-empty letters, digits, '-' or '_'");
        foreach (var (name, value) in new[] { (nameof(ProbeInterval), ProbeInterval), (nameof(ProbeTimeout), ProbeTimeout),
                     (nameof(DeathVoteExpiration), DeathVoteExpiration), (nameof(IAmAliveInterval), IAmAliveInterval),
                     (nameof(TableRefreshInterval), TableRefreshInterval) })
            if (value <= TimeSpan.Zero) throw new ArgumentException($"membership.{name} must be positive (was {value})");
        if (NumProbedSilos < 1 || MissedProbesLimit < 1 || NumVotesForDeathDeclaration < 1)
            throw new ArgumentException("membership.numProbedSilos, missedProbesLimit and numVotesForDeathDeclaration must be at least 1");
    }
}
