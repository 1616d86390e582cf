using AlignCluster.Hosting.Checkpoints;
using AlignCluster.Hosting.Security;
using Azure.Storage.Blobs;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Providers;

namespace AlignCluster.Hosting.Storage;

/// <summary>
/// Wires a silo or client to the cluster's storage (<see cref="ClusterStorageOptions"/>): clustering, grain state,
/// reminders, checkpoints and the membership timing.
/// </summary>
public static class ClusterStorageExtensions
{
    public static ISiloBuilder UseAlignClusterStorage(this ISiloBuilder builder, ClusterStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        builder.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = options.ClusterId;
            o.ServiceId = options.ServiceId;
        });
        if (options.ConfigureEndpoints)
        {
            builder.Configure<EndpointOptions>(o =>
            {
                o.AdvertisedIPAddress = options.ListenAddress;
                o.SiloPort = options.SiloPort;
                o.GatewayPort = options.GatewayPort;
                o.SiloListeningEndpoint = new System.Net.IPEndPoint(options.ListenAddress, options.SiloPort);
                o.GatewayListeningEndpoint = new System.Net.IPEndPoint(options.ListenAddress, options.GatewayPort);
            });
        }
        builder.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = options.ProbeTimeout;
            o.NumMissedProbesLimit = options.NumMissedProbesLimit;
        });
        switch (options.Mode)
        {
            case StorageMode.Embedded:
                if (options.ConfigureEndpoints)
                {
                    builder.UseLocalhostClustering(
                        options.SiloPort,
                        options.GatewayPort,
                        serviceId: options.ServiceId,
                        clusterId: options.ClusterId
                    );
                }
                string grains = Path.Combine(options.DataDirectory, "grains");
                builder.AddFileGrainStorage(ClusterStorageOptions.GrainStorageName, grains);
                builder.AddFileGrainStorage(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME, grains);
                builder.UseInMemoryReminderService();
                builder.Services.AddSingleton<ICheckpointStorage>(
                    new LocalCheckpointStorage(Path.Combine(options.DataDirectory, "checkpoints"))
                );
                break;
            case StorageMode.Azure:
                string connection = options.RequireConnectionString();
                builder.UseAzureStorageClustering(o =>
                {
                    o.TableServiceClient = new Azure.Data.Tables.TableServiceClient(connection);
                    o.TableName = options.Table("membership");
                });
                string[] names =
                [
                    ClusterStorageOptions.GrainStorageName,
                    ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME,
                ];
                foreach (string name in names)
                {
                    builder.AddAzureBlobGrainStorage(name, o =>
                    {
                        o.BlobServiceClient = new BlobServiceClient(connection);
                        o.ContainerName = options.Container("grainstate");
                    });
                }
                builder.UseAzureTableReminderService(o =>
                {
                    o.TableServiceClient = new Azure.Data.Tables.TableServiceClient(connection);
                    o.TableName = options.Table("reminders");
                });
                builder.Services.AddSingleton<ICheckpointStorage>(
                    AzureBlobCheckpointStorage.FromConnectionString(connection, options.Container("checkpoints"))
                );
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(options), options.Mode, "unknown storage mode");
        }
        return builder;
    }

    /// <summary>Clustering for a client, with the gateway check: a dead address or a refusal fails fast.</summary>
    public static IClientBuilder UseAlignClusterStorage(this IClientBuilder builder, ClusterStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        builder.UseGatewayCheck();
        switch (options.Mode)
        {
            case StorageMode.Embedded:
                builder.UseLocalhostClustering(
                    options.GatewayPorts ?? [options.GatewayPort],
                    serviceId: options.ServiceId,
                    clusterId: options.ClusterId
                );
                break;
            case StorageMode.Azure:
                string connection = options.RequireConnectionString();
                builder.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = options.ClusterId;
                    o.ServiceId = options.ServiceId;
                });
                builder.UseAzureStorageClustering(o =>
                {
                    o.TableServiceClient = new Azure.Data.Tables.TableServiceClient(connection);
                    o.TableName = options.Table("membership");
                });
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(options), options.Mode, "unknown storage mode");
        }
        return builder;
    }
}
