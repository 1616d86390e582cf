using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Connections.Security;

namespace AlignCluster.Hosting.Security;

/// <summary>
/// Mutual TLS between silos and clients with the cluster certificate (see <see cref="ClusterCertificate"/>): every
/// connection presents it and accepts only a peer that presents the same certificate. A client without it fails
/// its TLS handshake, which the silo ends at once; <see cref="HandshakeTimeout"/> bounds a peer that never answers.
/// </summary>
public static class ClusterTlsExtensions
{
    /// <summary>How long a TLS handshake may take before the connection is dropped.</summary>
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(5);

    public static ISiloBuilder UseClusterTls(this ISiloBuilder builder, X509Certificate2 certificate) =>
        builder.UseTls(certificate, options => Configure(options, certificate));

    public static ISiloBuilder UseClusterTls(this ISiloBuilder builder, string pfxPath, string? password) =>
        builder.UseClusterTls(ClusterCertificate.Load(pfxPath, password));

    /// <summary>TLS for a client, and the gateway check (<see cref="GatewayCheck"/>) so a refusal fails fast.</summary>
    public static IClientBuilder UseClusterTls(this IClientBuilder builder, X509Certificate2 certificate)
    {
        builder.Services.AddSingleton(new ClusterTlsCertificate(certificate));
        builder.UseGatewayCheck();
        return builder.UseTls(certificate, options => Configure(options, certificate));
    }

    public static IClientBuilder UseClusterTls(this IClientBuilder builder, string pfxPath, string? password) =>
        builder.UseClusterTls(ClusterCertificate.Load(pfxPath, password));

    private static void Configure(TlsOptions options, X509Certificate2 certificate)
    {
        string pin = ClusterCertificate.Thumbprint(certificate);
        options.LocalCertificate = certificate;
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.HandshakeTimeout = HandshakeTimeout;
        // The peer must present exactly the cluster certificate: chain and name errors of a self-signed certificate
        // are expected and do not matter, the pin does.
        options.RemoteCertificateValidation = (remote, _, _) =>
            remote is not null && ClusterCertificate.Thumbprint(remote) == pin;
        options.OnAuthenticateAsClient = (_, client) => client.TargetHost = "localhost";
    }
}
