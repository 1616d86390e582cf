using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Messaging;

namespace AlignCluster.Hosting.Security;

/// <summary>
/// A client's cluster connection fails with a clear message, fast, instead of waiting: before the Orleans client
/// connects, every gateway it would use is probed with a TLS handshake (with the cluster certificate if the client
/// has one). When no gateway would take the client, start-up fails with <see cref="ClusterUnreachableException"/>
/// naming each gateway and why (connection refused, TLS required, certificate refused...).
/// </summary>
public static class GatewayCheck
{
    /// <summary>The reason given for a gateway that speaks TLS when the client has no certificate.</summary>
    public const string NoCertificate = "the cluster requires TLS and this client has no cluster certificate";

    /// <summary>How long one gateway probe may take.</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Checks the gateways before the client connects (a no-op when called twice). The client's cluster certificate
    /// is the one <c>UseClusterTls</c> registered, or none.
    /// </summary>
    public static IClientBuilder UseGatewayCheck(this IClientBuilder builder)
    {
        if (builder.Services.Any(d => d.ImplementationType == typeof(GatewayCheckService)))
            return builder;
        // First among the hosted services: it must run before Orleans' client service connects.
        builder.Services.Insert(0, ServiceDescriptor.Singleton<IHostedService, GatewayCheckService>());
        return builder;
    }

    /// <summary>
    /// Probes <paramref name="gateway"/>: null when a client with <paramref name="certificate"/> (null: no TLS)
    /// would be accepted, else why not.
    /// </summary>
    public static async Task<string?> ProbeAsync(
        IPEndPoint gateway,
        X509Certificate2? certificate,
        CancellationToken ct = default
    )
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(ProbeTimeout);
        using var socket = new Socket(gateway.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(gateway, timeout.Token);
        }
        catch (SocketException e)
        {
            return $"cannot connect ({e.SocketErrorCode})";
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return $"no answer within {ProbeTimeout.TotalSeconds:0} s";
        }

        // The thumbprint, not the certificate: SslStream disposes the peer's certificate after the handshake.
        string? presented = null;
        string? pin = certificate is null ? null : ClusterCertificate.Thumbprint(certificate);
        await using var tls = new SslStream(
            new NetworkStream(socket, ownsSocket: false),
            leaveInnerStreamOpen: false,
            (_, remote, _, _) =>
            {
                presented = remote is null ? null : ClusterCertificate.Thumbprint(remote);
                return pin is not null && presented == pin;
            }
        );
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ClientCertificates = certificate is null ? null : new X509CertificateCollection { certificate },
        };
        try
        {
            await tls.AuthenticateAsClientAsync(options, timeout.Token);
        }
        catch (Exception e)
            when (e is AuthenticationException or IOException or OperationCanceledException
                && !ct.IsCancellationRequested
            )
        {
            if (certificate is null)
            {
                // A gateway that presented a certificate speaks TLS: this client, without one, cannot join.
                return presented is null ? null : NoCertificate;
            }
            if (presented is null)
                return $"TLS handshake failed (the gateway does not speak TLS?): {e.Message}";
            return $"the gateway's certificate {presented[..16]}… is not the cluster certificate {pin![..16]}…";
        }
        if (certificate is null)
            return NoCertificate;

        // TLS 1.3: the server checks the client's certificate after the handshake and answers a refusal with an
        // alert, which shows on the first read. Silence (it waits for the client's Orleans preamble) is acceptance.
        try
        {
            using var read = CancellationTokenSource.CreateLinkedTokenSource(ct);
            read.CancelAfter(TimeSpan.FromMilliseconds(500));
            int n = await tls.ReadAsync(new byte[1], read.Token);
            return n == 0 ? "the gateway refused this client's certificate (not the cluster certificate)" : null;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or AuthenticationException)
        {
            return $"the gateway refused this client's certificate (not the cluster certificate): {e.Message}";
        }
    }

    private sealed class GatewayCheckService(IGatewayListProvider gateways, IServiceProvider services) : IHostedService
    {
        public async Task StartAsync(CancellationToken ct)
        {
            X509Certificate2? certificate = services.GetService<ClusterTlsCertificate>()?.Certificate;
            await gateways.InitializeGatewayListProviderAsync(ct);
            IList<Uri> uris = await gateways.GetGatewaysAsync(ct);
            if (uris.Count == 0)
                throw new ClusterUnreachableException("cannot connect to the cluster: no gateway is listed");
            var endpoints = uris.Select(u => u.ToIPEndPoint()!).ToList();
            string?[] answers = await Task.WhenAll(endpoints.Select(e => ProbeAsync(e, certificate, ct)));
            if (answers.Any(a => a is null))
                return;
            string why = string.Join("; ", endpoints.Zip(answers, (e, a) => $"{e}: {a}"));
            throw new ClusterUnreachableException($"cannot connect to the cluster: {why}", why);
        }

        public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
    }
}

/// <summary>The cluster certificate this client uses (registered by <c>UseClusterTls</c>).</summary>
public sealed record ClusterTlsCertificate(X509Certificate2 Certificate);

/// <summary>No gateway of the cluster would take this client; the message says why for each.</summary>
/// <param name="why">The reasons alone ("gateway: reason; …"), for callers that phrase the message themselves.</param>
public sealed class ClusterUnreachableException(string message, string? why = null) : Exception(message)
{
    public string Why { get; } = why ?? message;
}
