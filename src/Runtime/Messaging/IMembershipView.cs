namespace AlignCluster.Runtime.Messaging;

/// <summary>A silo's lifecycle status in the membership table (Orleans' SiloStatus).</summary>
public enum SiloStatus { Joining = 0, Active = 1, ShuttingDown = 2, Dead = 3 }

/// <summary>A compute device a silo offers for device-pinned placement.</summary>
/// <param name="Id">Device id, unique within the silo: "cuda:0", "cpu:0".</param>
/// <param name="Kind">"cuda" or "cpu" (or another accelerator kind).</param>
/// <param name="MemoryBytes">Device memory if known, else 0.</param>
public sealed record DeviceInfo(string Id, string Kind, long MemoryBytes = 0);

/// <summary>One row of the membership table as the runtime sees it.</summary>
/// <param name="Address">The silo.</param>
/// <param name="Status">Its status.</param>
/// <param name="Devices">Devices it declares (GPUs, or CPU "devices" where it has none).</param>
/// <param name="Metadata">Other metadata (e.g. "gateway" = "http://127.0.0.1:40001", "hostname").</param>
public sealed record SiloInfo(SiloAddress Address, SiloStatus Status, IReadOnlyList<DeviceInfo> Devices, IReadOnlyDictionary<string, string> Metadata)
{
    public SiloInfo(SiloAddress address, SiloStatus status, IReadOnlyList<DeviceInfo>? devices = null)
        : this(address, status, devices ?? [], new Dictionary<string, string>()) { }
}

/// <summary>An immutable view of the membership table.</summary>
/// <param name="Version">Increases with every change.</param>
/// <param name="Silos">All known silos (dead ones included), ordered by address.</param>
public sealed record MembershipSnapshot(long Version, IReadOnlyList<SiloInfo> Silos)
{
    public static readonly MembershipSnapshot Empty = new(0, []);

    /// <summary>Silos with status Active, ordered by address.</summary>
    public IReadOnlyList<SiloInfo> ActiveSilos => _active ??= Silos.Where(s => s.Status == SiloStatus.Active).OrderBy(s => s.Address).ToArray();
    private IReadOnlyList<SiloInfo>? _active;

    /// <summary>True when <paramref name="silo"/> (this exact generation) is Active.</summary>
    public bool IsActive(SiloAddress silo) => (_activeSet ??= [.. ActiveSilos.Select(s => s.Address)]).Contains(silo);
    private HashSet<SiloAddress>? _activeSet;

    /// <summary>The consistent-hash ring over the active silos (built once per snapshot).</summary>
    internal ConsistentHashRing Ring => _ring ??= new ConsistentHashRing(ActiveSilos.Select(s => s.Address));
    private ConsistentHashRing? _ring;

    /// <summary>The status of a silo, or null when it is unknown.</summary>
    public SiloStatus? StatusOf(SiloAddress silo) => Silos.FirstOrDefault(s => s.Address == silo)?.Status;
}

/// <summary>
/// The runtime's read side of membership. The in-process implementation is <see cref="InProcessMembership"/>;
/// runtime-net implements it over the membership protocol (table with CAS, heartbeats, probes, votes).
/// </summary>
/// <remarks>
/// Contract: <see cref="Current"/> is replaced atomically; <see cref="Changed"/> is raised after every replacement
/// with the new snapshot, versions strictly increasing; handlers must be quick and must not throw. A silo once
/// Dead stays Dead (a restart joins with a new generation).
/// </remarks>
public interface IMembershipView
{
    /// <summary>The latest snapshot.</summary>
    MembershipSnapshot Current { get; }

    /// <summary>Raised after <see cref="Current"/> changes.</summary>
    event Action<MembershipSnapshot>? Changed;

    /// <summary>Asks the membership service to declare <paramref name="silo"/> dead (e.g. after calls to it failed);
    /// the service may verify before doing so.</summary>
    Task DeclareDeadAsync(SiloAddress silo, string reason, CancellationToken cancellationToken = default);
}
