using System.Net;
using AlignCluster.Grains.Coordinator;
using AlignCluster.Grains.Hosting;
using AlignCluster.Hosting.Security;
using AlignCluster.Hosting.Storage;
using Microsoft.Extensions.Configuration;
using Orleans.Configuration;
using Orleans.Hosting;

namespace AlignCluster.Silo;

/// <summary>
/// How the silo joins its cluster, read from configuration (see Program.cs for the keys): membership and storage
/// (Storage:Mode local = development clustering with a primary silo + files; azure = Azure Storage tables and blobs,
/// no primary), TLS with the cluster certificate, and the coordinator's keep-alive reminder period.
/// </summary>
public static class SiloCluster
{
    public static void Configure(ISiloBuilder silo, IConfiguration config, IReadOnlyList<string> devices)
    {
        var address = IPAddress.Parse(config["Silo:Address"] ?? "127.0.0.1");
        int port = config.GetValue("Silo:Port", 11111),
            gatewayPort = config.GetValue("Silo:GatewayPort", 30000);
        string clusterId = config["Cluster:Id"] ?? "aligncluster";
        string mode = config["Storage:Mode"] ?? "local";
        switch (mode)
        {
            case "local":
                var primary = config["Silo:Primary"] is { Length: > 0 } p
                    ? IPEndPoint.Parse(p)
                    : new IPEndPoint(address, port);
                silo.UseDevelopmentClustering(primary);
                silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, "aligncluster"));
                silo.ConfigureEndpoints(address, port, gatewayPort, listenOnAnyHostAddress: false);
                var timing = new ClusterStorageOptions();
                silo.Configure<ClusterMembershipOptions>(o =>
                    (o.ProbeTimeout, o.NumMissedProbesLimit) = (timing.ProbeTimeout, timing.NumMissedProbesLimit)
                );
                silo.AddAlignCluster(config["Storage:Directory"] ?? ".aligncluster-silo", devices);
                break;
            case "azure":
                silo.UseAlignClusterStorage(
                    new ClusterStorageOptions
                    {
                        Mode = StorageMode.Azure,
                        AzureConnectionString = config["Storage:ConnectionString"] is { Length: > 0 } connection
                            ? connection
                            : throw new ArgumentException("Storage:Mode azure needs Storage:ConnectionString"),
                        AzurePrefix = config["Storage:Prefix"] ?? "aligncluster",
                        ClusterId = clusterId,
                        ListenAddress = address,
                        SiloPort = port,
                        GatewayPort = gatewayPort,
                    }
                );
                silo.AddAlignClusterGrains(devices);
                break;
            default:
                throw new ArgumentException($"Storage:Mode '{mode}': expected local or azure");
        }
        if (config["Tls:Certificate"] is { Length: > 0 } certificate)
            silo.UseClusterTls(certificate, config["Tls:Password"]);
        if (config["Coordinator:KeepAlivePeriod"] is { Length: > 0 } keepAlive)
        {
            // Tests and operators shorten how soon a stopped run's reminder brings it back; Orleans refuses
            // reminder periods under its minimum (1 min), so the minimum follows.
            var period = TimeSpan.Parse(keepAlive, System.Globalization.CultureInfo.InvariantCulture);
            CoordinatorGrain.KeepAlivePeriod = period;
            silo.Configure<ReminderOptions>(o =>
                o.MinimumReminderPeriod = TimeSpan.FromTicks(Math.Min(period.Ticks, o.MinimumReminderPeriod.Ticks))
            );
        }
    }

    /// <summary>`AlignCluster.Silo new-certificate FILE`: writes a new self-signed cluster certificate (PFX).</summary>
    public static int NewCertificate(string[] args)
    {
        if (args.Length != 2)
        {
            Console.Error.WriteLine("usage: AlignCluster.Silo new-certificate FILE.pfx");
            return 2;
        }
        using var created = ClusterCertificate.CreateSelfSigned();
        ClusterCertificate.WritePfx(created, args[1], password: null);
        Console.WriteLine($"wrote cluster certificate {args[1]} (SHA-256 {ClusterCertificate.Thumbprint(created)})");
        return 0;
    }
}
