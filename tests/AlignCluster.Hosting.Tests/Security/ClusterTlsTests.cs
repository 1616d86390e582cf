using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using AlignCluster.Hosting.Placement;
using AlignCluster.Hosting.Security;
using AlignCluster.Hosting.Tests.Infrastructure;
using AlignCluster.Hosting.Tests.TestGrains;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Connections.Security;
using Xunit.Abstractions;

namespace AlignCluster.Hosting.Tests.Security;

/// <summary>
/// Two silos and a client that share the cluster certificate talk over TLS; a client with another certificate, or
/// without TLS, is refused with an error, not left waiting.
/// </summary>
public sealed class ClusterTlsTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string ClusterId = "tls-test";
    private readonly X509Certificate2 _cluster = ClusterCertificate.CreateSelfSigned();
    private LoopbackCluster _silos = null!;

    public async Task InitializeAsync()
    {
        _silos = await LoopbackCluster.StartAsync(
            2,
            (_, ports, silo) =>
            {
                silo.UseLocalhostClustering(
                    ports.Silo,
                    ports.Gateway,
                    new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, ports.Primary),
                    ClusterId,
                    ClusterId
                );
                silo.UseClusterTls(_cluster);
                silo.AddDevices([]);
            },
            client => { },
            null,
            clientLater: true
        );
    }

    public async Task DisposeAsync() => await _silos.DisposeAsync();

    [Fact]
    public async Task Client_and_silos_with_the_cluster_certificate_call_across_silos()
    {
        IHost host = BuildClient(client => client.UseClusterTls(_cluster));
        try
        {
            await host.StartAsync();
            var silos = await host
                .Services.GetRequiredService<IClusterClient>()
                .GetGrain<IManagementGrain>(0)
                .GetHosts(onlyActive: true);
            string[] addresses = silos.Keys.Select(s => s.ToParsableString()).Order().ToArray();
            Assert.Equal(2, addresses.Length);
            IHopGrain first = host.Services.GetRequiredService<IClusterClient>().GetGrain<IHopGrain>(addresses[0]);
            Assert.Equal(addresses, await first.Hop([addresses[1]]));
        }
        finally
        {
            await host.StopAsync();
            host.Dispose();
        }
    }

    [Fact]
    public async Task A_client_with_another_certificate_is_refused()
    {
        using X509Certificate2 stranger = ClusterCertificate.CreateSelfSigned("CN=stranger");
        Exception refused = await ConnectOutsiderAsync(client => client.UseClusterTls(stranger));
        output.WriteLine(refused.ToString());
        Assert.IsType<ClusterUnreachableException>(refused);
        Assert.StartsWith("cannot connect to the cluster: ", refused.Message);
        Assert.Contains("is not the cluster certificate", refused.Message);
    }

    [Fact]
    public async Task A_client_without_tls_is_refused()
    {
        Exception refused = await ConnectOutsiderAsync(client => client.UseGatewayCheck());
        output.WriteLine(refused.ToString());
        Assert.IsType<ClusterUnreachableException>(refused);
        Assert.Contains("the cluster requires TLS and this client has no cluster certificate", refused.Message);
    }

    [Fact]
    public async Task The_silos_themselves_refuse_a_client_with_another_certificate()
    {
        // Without the gateway check and trusting any server: only the silo's own TLS check stands in the way, so
        // no call may ever be served (20 s: enough for a loaded machine to serve an accepted client many times).
        using X509Certificate2 stranger = ClusterCertificate.CreateSelfSigned("CN=stranger");
        IHost host = BuildClient(client => client.UseTls(stranger, o => o.AllowAnyRemoteCertificate()));
        try
        {
            Task served = Task.Run(async () =>
            {
                await host.StartAsync();
                await host.Services.GetRequiredService<IClusterClient>().GetGrain<IManagementGrain>(0).GetHosts();
            });
            await Assert.ThrowsAnyAsync<Exception>(() => served.WaitAsync(TimeSpan.FromSeconds(20)));
        }
        finally
        {
            try
            {
                await host.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(5)).Token);
            }
            catch (Exception) { }
            host.Dispose();
        }
    }

    [Fact]
    public async Task A_client_pointed_at_a_dead_address_fails_fast()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var dead = (System.Net.IPEndPoint)listener.LocalEndpoint;
        listener.Stop(); // nothing listens there any more: connection refused
        Exception refused = await ConnectOutsiderAsync(client => client.UseClusterTls(_cluster), [dead]);
        Assert.IsType<ClusterUnreachableException>(refused);
        Assert.Equal($"cannot connect to the cluster: {dead}: cannot connect (ConnectionRefused)", refused.Message);
    }

    [Fact]
    public void A_certificate_file_round_trips_and_a_wrong_password_is_a_clear_error()
    {
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "cluster.pfx");
        ClusterCertificate.WritePfx(_cluster, path, "secret");
        using X509Certificate2 loaded = ClusterCertificate.Load(path, "secret");
        Assert.Equal(ClusterCertificate.Thumbprint(_cluster), ClusterCertificate.Thumbprint(loaded));
        Assert.True(loaded.HasPrivateKey);

        var wrong = Assert.Throws<ClusterCertificateException>(() => ClusterCertificate.Load(path, "guess"));
        Assert.StartsWith($"cluster certificate {path}: not a PFX file or wrong password", wrong.Message);
        var missing = Assert.Throws<ClusterCertificateException>(() =>
            ClusterCertificate.Load(path + ".missing", "secret")
        );
        Assert.Equal($"cluster certificate {path}.missing: file not found", missing.Message);
    }

    /// <summary>
    /// Starts a client host aimed at the silos' gateways and returns how its start failed. Sixty seconds is a bound
    /// for a hang on a loaded machine (a refused client fails long before), not a timing assertion.
    /// </summary>
    private IHost BuildClient(Action<IClientBuilder> configure, System.Net.IPEndPoint[]? gateways = null) =>
        Host.CreateDefaultBuilder()
            .ConfigureLogging(l => l.ClearProviders())
            .UseOrleansClient(client =>
            {
                client.UseStaticClustering(gateways ?? _silos.Gateways.ToArray());
                client.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = ClusterId;
                    o.ServiceId = ClusterId;
                });
                configure(client);
            })
            .Build();

    private async Task<Exception> ConnectOutsiderAsync(
        Action<IClientBuilder> configure,
        System.Net.IPEndPoint[]? gateways = null
    )
    {
        IHost host = BuildClient(configure, gateways);
        var clock = Stopwatch.StartNew();
        using var hang = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Exception? failure = null;
        try
        {
            await host.StartAsync(hang.Token);
            // Connected (it should not): a call must still fail.
            await host
                .Services.GetRequiredService<IClusterClient>()
                .GetGrain<IManagementGrain>(0)
                .GetHosts()
                .WaitAsync(hang.Token);
        }
        catch (Exception e)
        {
            failure = e;
        }
        finally
        {
            try
            {
                await host.StopAsync(CancellationToken.None);
            }
            catch (Exception) { }
            host.Dispose();
        }
        output.WriteLine($"refused after {clock.Elapsed.TotalSeconds:0.00} s");
        Assert.NotNull(failure);
        Assert.False(hang.IsCancellationRequested, "the client was left waiting instead of being refused");
        return failure;
    }

    private static string AllMessages(Exception e)
    {
        var messages = new List<string>();
        for (Exception? x = e; x is not null; x = x.InnerException)
            messages.Add(x.Message);
        return string.Join(" | ", messages);
    }
}
