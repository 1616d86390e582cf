using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AlignCluster.Hosting.Tests.Infrastructure;

/// <summary>
/// Silos and a client built the way the silo host and CLI build them (Host + UseOrleans / UseOrleansClient), on
/// loopback TCP, in this process. Unlike the in-process test cluster, connections are real sockets (TLS, gateway
/// checks and Azure clustering need them).
/// </summary>
public sealed class LoopbackCluster : IAsyncDisposable
{
    private readonly List<IHost> _hosts = [];

    public List<IHost> Silos { get; } = [];

    public List<IPEndPoint> Gateways { get; } = [];

    public IClusterClient Client { get; private set; } = null!;

    /// <summary>
    /// Starts <paramref name="silos"/> silos (configured by <paramref name="silo"/> with the silo index, its silo
    /// and gateway ports and the first silo's port) and a client (configured by <paramref name="client"/>; none
    /// with <paramref name="clientLater"/>).
    /// </summary>
    public static async Task<LoopbackCluster> StartAsync(
        int silos,
        Action<int, (int Silo, int Gateway, int Primary), ISiloBuilder> silo,
        Action<IClientBuilder> client,
        IReadOnlyDictionary<string, string?>? configuration = null,
        bool clientLater = false
    )
    {
        var cluster = new LoopbackCluster();
        try
        {
            int primary = 0;
            for (int i = 0; i < silos; i++)
            {
                (int siloPort, int gatewayPort) = (FreePort(), FreePort());
                if (i == 0)
                    primary = siloPort;
                int index = i;
                IHost host = Host.CreateDefaultBuilder()
                    .ConfigureAppConfiguration(c =>
                        c.AddInMemoryCollection(configuration ?? new Dictionary<string, string?>())
                    )
                    .ConfigureLogging(l => l.ClearProviders())
                    .UseOrleans(builder => silo(index, (siloPort, gatewayPort, primary), builder))
                    .Build();
                cluster._hosts.Add(host);
                cluster.Silos.Add(host);
                cluster.Gateways.Add(new IPEndPoint(IPAddress.Loopback, gatewayPort));
                await host.StartAsync();
            }
            if (clientLater)
                return cluster; // the test builds its own clients
            IHost clientHost = Host.CreateDefaultBuilder()
                .ConfigureLogging(l => l.ClearProviders())
                .UseOrleansClient(client)
                .Build();
            cluster._hosts.Add(clientHost);
            await clientHost.StartAsync();
            cluster.Client = clientHost.Services.GetRequiredService<IClusterClient>();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Client first, then the silos: an orderly stop of the whole cluster.
        for (int i = _hosts.Count - 1; i >= 0; i--)
        {
            try
            {
                await _hosts[i].StopAsync();
            }
            catch (Exception) { }
            _hosts[i].Dispose();
        }
        _hosts.Clear();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
