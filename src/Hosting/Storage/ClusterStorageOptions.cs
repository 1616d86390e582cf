using System.Net;

namespace AlignCluster.Hosting.Storage;

/// <summary>Where a cluster keeps its membership, grain state, reminders and checkpoints.</summary>
public enum StorageMode
{
    /// <summary>One machine, no external service: localhost clustering, file grain state, local checkpoints.</summary>
    Embedded,

    /// <summary>Azure Storage (or Azurite): table clustering and reminders, blob grain state and checkpoints.</summary>
    Azure,
}

/// <summary>
/// The storage and membership settings silos and clients share (<c>UseAlignClusterStorage</c>). Grains persist
/// with <c>[PersistentState("name", ClusterStorageOptions.GrainStorageName)]</c> (or no name: it is also the
/// default storage) and get checkpoints from the <c>ICheckpointStorage</c> service.
/// </summary>
public sealed class ClusterStorageOptions
{
    /// <summary>The grain storage name the silo registers (and registers as Orleans' default storage too).</summary>
    public const string GrainStorageName = "aligncluster";

    public StorageMode Mode { get; set; } = StorageMode.Embedded;

    /// <summary>Embedded: grain state goes to DataDirectory/grains, checkpoints to DataDirectory/checkpoints.</summary>
    public string DataDirectory { get; set; } = "aligncluster-data";

    /// <summary>Azure: the storage account (an Azurite one in tests and deploy/local).</summary>
    public string? AzureConnectionString { get; set; }

    /// <summary>Azure: prefix of every table and container name (table "alignclustermembership", ...).</summary>
    public string AzurePrefix { get; set; } = "aligncluster";

    /// <summary>Orleans' ClusterId: silos and clients of one cluster share it.</summary>
    public string ClusterId { get; set; } = "aligncluster";

    /// <summary>Orleans' ServiceId: stable across restarts (grain state and reminders are keyed by it).</summary>
    public string ServiceId { get; set; } = "aligncluster";

    /// <summary>The address silos bind and advertise: loopback unless configured otherwise.</summary>
    public IPAddress ListenAddress { get; set; } = IPAddress.Loopback;

    /// <summary>
    /// Whether <c>UseAlignClusterStorage</c> sets the silo's endpoints (address and ports below). Hosts that set
    /// them elsewhere (a test cluster) turn it off.
    /// </summary>
    public bool ConfigureEndpoints { get; set; } = true;

    public int SiloPort { get; set; } = 11111;

    public int GatewayPort { get; set; } = 30000;

    /// <summary>Embedded clients: the gateway ports to try (default: <see cref="GatewayPort"/>).</summary>
    public int[]? GatewayPorts { get; set; }

    /// <summary>
    /// Membership: how long one probe may take. With <see cref="NumMissedProbesLimit"/> it bounds how long a crashed
    /// silo stays a member (see docs/operations.md, "Membership bound").
    /// </summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Membership: missed probes before a silo votes another one dead.</summary>
    public int NumMissedProbesLimit { get; set; } = 2;

    internal string Table(string what) => Sanitize(AzurePrefix, allowDash: false) + what;

    internal string Container(string what) => Sanitize(AzurePrefix, allowDash: true) + "-" + what;

    internal string RequireConnectionString() =>
        AzureConnectionString is { Length: > 0 } connection
            ? connection
            : throw new InvalidOperationException("storage mode Azure needs AzureConnectionString");

    // Table names are letters and digits only; container names lower case letters, digits and dashes.
    private static string Sanitize(string prefix, bool allowDash) =>
        new(prefix.ToLowerInvariant().Where(c => char.IsAsciiLetterOrDigit(c) || (allowDash && c == '-')).ToArray());
}
