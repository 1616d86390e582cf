using AlignCluster.Runtime.Membership;
using AlignCluster.Runtime.Messaging;

namespace AlignCluster.Runtime.Hosting;

/// <summary>
/// A silo's configuration, bound from YAML, then ALIGNCLUSTER_* environment variables ("__" separates levels, e.g.
/// ALIGNCLUSTER_CLUSTER__KEY), then command-line arguments (--network:port=11112). See docs/operations.md.
/// </summary>
public sealed class SiloConfig
{
    public ClusterSection Cluster { get; set; } = new();
    public NetworkSection Network { get; set; } = new();
    public StorageSection Storage { get; set; } = new();
    public MembershipOptions Membership { get; set; } = new();
    /// <summary>Devices this silo offers; empty = ask the device detector (CPU devices where there is no GPU).</summary>
    public List<DeviceInfo> Devices { get; set; } = [];
    /// <summary>How many CPU "devices" to declare when no GPU is detected and none is configured.</summary>
    public int CpuDevices { get; set; } = 1;
    /// <summary>Extra assemblies (paths) whose grain classes and interfaces this silo hosts.</summary>
    public List<string> GrainAssemblies { get; set; } = [];
    /// <summary>When set, only these grain classes (full type names) of <see cref="GrainAssemblies"/> are hosted.</summary>
    public List<string> GrainClasses { get; set; } = [];
    /// <summary>Free-form metadata published in the membership table.</summary>
    public Dictionary<string, string> Metadata { get; set; } = [];

    public sealed class ClusterSection
    {
        /// <summary>Cluster name (the membership table's key).</summary>
        public string Id { get; set; } = "default";
        /// <summary>The shared secret every silo and client must present. Required.</summary>
        public string? Key { get; set; }
    }

    public sealed class NetworkSection
    {
        /// <summary>Bind address: 127.0.0.1 unless configured otherwise.</summary>
        public string Host { get; set; } = "127.0.0.1";
        /// <summary>Silo port (silo-to-silo and, unless GatewayPort is set, clients).</summary>
        public int Port { get; set; } = 11111;
        /// <summary>Separate client gateway port; 0 = clients use Port.</summary>
        public int GatewayPort { get; set; }
        /// <summary>The host other silos reach this one at; defaults to Host (required when Host is 0.0.0.0).</summary>
        public string? AdvertisedHost { get; set; }
    }

    public sealed class StorageSection
    {
        /// <summary>The "Default" store (grain state, reminders, directory, membership): memory, local:DIR or azureblob:….</summary>
        public string Default { get; set; } = "local:./aligncluster-data";
        /// <summary>Store holding the membership table; empty = Default.</summary>
        public string? Membership { get; set; }
        /// <summary>More named stores for [PersistentState(name, store)].</summary>
        public Dictionary<string, string> Named { get; set; } = [];
    }

    /// <summary>Throws naming the first missing or invalid setting.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Cluster.Key))
            throw new InvalidOperationException("cluster:key is not set: put it in the silo YAML (cluster: key: …), ALIGNCLUSTER_CLUSTER__KEY or --cluster:key=…");
        if (Network.Port is < 0 or > 65535) throw new InvalidOperationException($"network:port {Network.Port} is not a port number");
        if (Network.GatewayPort is < 0 or > 65535) throw new InvalidOperationException($"network:gatewayPort {Network.GatewayPort} is not a port number");
        if (Network.Host is "0.0.0.0" or "*" && string.IsNullOrWhiteSpace(Network.AdvertisedHost))
            throw new InvalidOperationException("network:host binds every interface: set network:advertisedHost to the address other silos should use");
        if (CpuDevices < 0) throw new InvalidOperationException($"cpuDevices must be >= 0 (was {CpuDevices})");
        Membership = Membership with { ClusterId = Cluster.Id };
        Membership.Validate();
    }

    /// <summary>The host published in this silo's address.</summary>
    public string AdvertisedHost => string.IsNullOrWhiteSpace(Network.AdvertisedHost) ? Network.Host : Network.AdvertisedHost!;
}
