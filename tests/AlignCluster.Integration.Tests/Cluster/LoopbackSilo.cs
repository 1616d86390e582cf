using System.Net;
using AlignCluster.Client.Cluster;
using AlignCluster.Grains.Hosting;
using Microsoft.Extensions.Hosting;

namespace AlignCluster.Integration.Tests.Cluster;

/// <summary>A silo host in this process on loopback TCP with the grains' default setup (file storage and local
/// checkpoints in one directory), reachable by the command line as deploy/local's silos are.</summary>
public sealed record LoopbackSilo(IHost Host, int SiloPort, int Gateway) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        await Host.StopAsync();
        Host.Dispose();
    }

    /// <summary>A silo host on loopback, with the command line's cluster and service ids; the first one started
    /// (<paramref name="primary"/> null) keeps the membership.</summary>
    public static async Task<LoopbackSilo> StartAsync(
        string directory,
        int siloPort,
        int gatewayPort,
        int? primary,
        string[] devices
    )
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(
            new HostApplicationBuilderSettings { DisableDefaults = true }
        );
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(
                siloPort,
                gatewayPort,
                primary is { } p ? new IPEndPoint(IPAddress.Loopback, p) : null,
                serviceId: "aligncluster",
                clusterId: RemoteCluster.ClusterId
            );
            silo.AddAlignCluster(directory, devices);
        });
        var host = builder.Build();
        await host.StartAsync();
        return new LoopbackSilo(host, siloPort, gatewayPort);
    }
}
