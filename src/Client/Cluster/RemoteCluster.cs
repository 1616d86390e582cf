using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using AlignCluster.Hosting.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Runtime.Messaging;

namespace AlignCluster.Client.Cluster;

/// <summary>
/// An Orleans client connected to running silos (`--cluster host:port[,host:port]`) through static gateways. A gateway
/// that does not answer fails the connection at once (no retry loop), with a message naming every address. With the
/// cluster certificate (<c>--certificate</c> or <see cref="CertificateVariable"/>) the client speaks TLS and presents
/// it; a cluster that refuses the client (no certificate, another one) fails the connection fast, saying so.
/// </summary>
public sealed class RemoteCluster : IAsyncDisposable
{
    /// <summary>Environment variable naming the cluster id (silos and clients must agree; default
    /// "aligncluster").</summary>
    public const string ClusterIdVariable = "ALIGNCLUSTER_CLUSTER__ID";

    /// <summary>Environment variable naming the cluster certificate (PFX) when --certificate is not given.</summary>
    public const string CertificateVariable = "ALIGNCLUSTER_CERTIFICATE";

    /// <summary>Environment variable holding the certificate's PFX password, if it has one.</summary>
    public const string CertificatePasswordVariable = "ALIGNCLUSTER_CERTIFICATE_PASSWORD";

    private readonly IHost _host;

    private RemoteCluster(IHost host, IReadOnlyList<string> gateways)
    {
        _host = host;
        Gateways = gateways;
        Client = host.Services.GetRequiredService<IClusterClient>();
    }

    public IClusterClient Client { get; }
    public IReadOnlyList<string> Gateways { get; }

    /// <summary>The command line's --certificate, if given (it takes precedence over the environment).</summary>
    public static string? CommandLineCertificate { get; set; }

    /// <summary>The cluster id silos and clients use unless <see cref="ClusterIdVariable"/> names another.</summary>
    public static string ClusterId =>
        Environment.GetEnvironmentVariable(ClusterIdVariable) is { Length: > 0 } id ? id : "aligncluster";

    /// <summary>
    /// Connects through the gateways of <paramref name="endpoints"/>. Fails with exit code 3 naming every address when
    /// none answers or none accepts this client, and with exit code 2 for a malformed address or an unusable
    /// certificate file.
    /// </summary>
    /// <param name="endpoints">"host:port" values; each may itself be comma-separated.</param>
    /// <param name="certificate">The cluster certificate (PFX); null: <see cref="CommandLineCertificate"/>, else
    /// <see cref="CertificateVariable"/>, else none.</param>
    public static async Task<RemoteCluster> ConnectAsync(
        IEnumerable<string> endpoints,
        string? certificate = null,
        CancellationToken ct = default
    )
    {
        var gateways = ParseGateways(endpoints);
        var addresses = gateways.Select(Resolve).ToArray();
        X509Certificate2? tls = LoadCertificate(certificate); // kept for the client's life: reconnects present it
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client =>
        {
            client.UseStaticClustering(addresses);
            client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (ClusterId, "aligncluster"));
            // a dead address fails fast, not in a loop
            client.UseConnectionRetryFilter((_, _) => Task.FromResult(false));
            client.AddActivityPropagation();
            // Both probe the gateways first, so a refusal (TLS required, wrong certificate) is said at once.
            if (tls is not null)
                client.UseClusterTls(tls);
            else
                client.UseGatewayCheck();
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync(ct);
            return new RemoteCluster(host, gateways);
        }
        catch (ClusterUnreachableException e)
        {
            host.Dispose();
            string hint = e.Why.Contains(GatewayCheck.NoCertificate, StringComparison.Ordinal)
                ? $" (give it with --certificate FILE or {CertificateVariable})"
                : "";
            throw new ClientException(
                $"cannot connect to the cluster at {string.Join(",", gateways)}: {e.Why}{hint}",
                exitCode: 3,
                e
            );
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            host.Dispose();
            throw new ClientException(
                $"cannot connect to the cluster at {string.Join(",", gateways)}: {e.Message} "
                    + $"(are the silos running, with cluster id '{ClusterId}'?)",
                exitCode: 3,
                e
            );
        }
    }

    /// <summary>The certificate from <paramref name="path"/> or the environment; an unusable file is bad
    /// input.</summary>
    private static X509Certificate2? LoadCertificate(string? path)
    {
        path ??= CommandLineCertificate
            ?? (Environment.GetEnvironmentVariable(CertificateVariable) is { Length: > 0 } named ? named : null);
        if (path is null)
            return null;
        try
        {
            return ClusterCertificate.Load(path, Environment.GetEnvironmentVariable(CertificatePasswordVariable));
        }
        catch (ClusterCertificateException e)
        {
            throw new ClientException(e.Message);
        }
    }

    /// <summary>Whether <paramref name="e"/> says a silo or gateway went away (not an application error).</summary>
    public static bool IsUnavailable(Exception e) =>
        e
            is SiloUnavailableException
                or ConnectionFailedException
                or OrleansMessageRejectionException
                or SocketException;

    /// <summary>
    /// Whether a call failed because the silo it went to was lost (also a time-out: a call to a silo that died
    /// unanswered), so the same call may succeed once the cluster has moved the grain to a survivor.
    /// </summary>
    public static bool IsLost(Exception e) => IsUnavailable(e) || e is TimeoutException;

    /// <summary>Splits and checks "host:port[,host:port…]" values.</summary>
    public static IReadOnlyList<string> ParseGateways(IEnumerable<string> endpoints)
    {
        var gateways = endpoints
            .SelectMany(e => e.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .ToList();
        if (gateways.Count == 0)
            throw new ClientException("--cluster: give at least one gateway address host:port");
        foreach (var g in gateways)
        {
            int colon = g.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(g.AsSpan(colon + 1), out int port) || port is < 1 or > 65535)
                throw new ClientException($"--cluster '{g}': expected host:port (e.g. 127.0.0.1:30000)");
        }
        return gateways;
    }

    private static IPEndPoint Resolve(string gateway)
    {
        int colon = gateway.LastIndexOf(':');
        string host = gateway[..colon];
        int port = int.Parse(gateway.AsSpan(colon + 1));
        if (IPAddress.TryParse(host, out var ip))
            return new IPEndPoint(ip, port);
        try
        {
            return new IPEndPoint(
                Dns.GetHostAddresses(host).First(a => a.AddressFamily == AddressFamily.InterNetwork),
                port
            );
        }
        catch (Exception e) when (e is SocketException or InvalidOperationException)
        {
            throw new ClientException($"--cluster '{gateway}': cannot resolve '{host}'", exitCode: 3, e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _host.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(5)).Token);
        }
        catch (Exception) { } // a cluster that went away has nothing to say goodbye to
        _host.Dispose();
    }
}
