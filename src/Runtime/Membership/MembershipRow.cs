using AlignCluster.Runtime.Messaging;

namespace AlignCluster.Runtime.Membership;

/// <summary>One suspicion vote: <see cref="Voter"/> could not reach the silo at <see cref="Time"/>.</summary>
public sealed record SuspectVote(string Voter, DateTime Time);

/// <summary>A silo's row in the membership table (Orleans' MembershipEntry).</summary>
public sealed class MembershipRow
{
    /// <summary>host:port@generation.</summary>
    public required string Address { get; init; }
    public SiloStatus Status { get; set; }
    public List<DeviceInfo> Devices { get; init; } = [];
    public Dictionary<string, string> Metadata { get; init; } = [];
    public DateTime StartTime { get; init; }
    public DateTime IAmAliveTime { get; set; }
    public List<SuspectVote> Suspicions { get; init; } = [];

    [System.Text.Json.Serialization.JsonIgnore]
    public SiloAddress SiloAddress => _parsed ??= Messaging.SiloAddress.Parse(Address);
    private SiloAddress? _parsed;
}

/// <summary>
/// The whole membership table, stored as one record. <see cref="Version"/> grows with every membership change
/// (not with I-am-alive writes); every write is a compare-and-swap on the record's ETag.
/// </summary>
public sealed class MembershipTableData
{
    public long Version { get; set; }
    public List<MembershipRow> Rows { get; init; } = [];

    public MembershipRow? Find(SiloAddress silo) => Rows.FirstOrDefault(r => r.Address == silo.ToString());

    /// <summary>The runtime's immutable view of this table.</summary>
    public MembershipSnapshot ToSnapshot() => new(Version, Rows
        .Select(r => new SiloInfo(r.SiloAddress, r.Status, r.Devices.ToArray(), new Dictionary<string, string>(r.Metadata)))
        .OrderBy(s => s.Address).ToArray());
}
