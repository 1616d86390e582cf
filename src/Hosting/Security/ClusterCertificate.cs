using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AlignCluster.Hosting.Security;

/// <summary>
/// The cluster certificate: one certificate (with its private key) that every silo and client of a cluster holds.
/// Each side presents it and accepts only a peer presenting the same one (pinned by SHA-256 thumbprint), so a client
/// without it cannot connect, whatever CA it trusts.
/// </summary>
public static class ClusterCertificate
{
    /// <summary>
    /// A new self-signed cluster certificate (ECDSA P-256, server and client authentication, valid from yesterday
    /// for <paramref name="validity"/>, default 2 years), for deploy/local and tests. Production clusters can use
    /// one from their own CA the same way.
    /// </summary>
    public static X509Certificate2 CreateSelfSigned(string subject = "CN=aligncluster", TimeSpan? validity = null)
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        request.CertificateExtensions.Add(
            new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true)
        );
        request.CertificateExtensions.Add(
            new X509EnhancedKeyUsageExtension(
                [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")],
                critical: false
            )
        ); // server + client auth
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using X509Certificate2 created = request.CreateSelfSigned(
            now.AddDays(-1),
            now + (validity ?? TimeSpan.FromDays(730))
        );
        // Round-trip through PKCS#12 so the key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), password: null);
    }

    /// <summary>Writes the certificate and its key as a PFX (temp + rename, owner-only on Unix).</summary>
    public static void WritePfx(X509Certificate2 certificate, string path, string? password)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = full + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var file = new FileStream(temp, options))
            {
                file.Write(certificate.Export(X509ContentType.Pfx, password));
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
                File.Delete(temp);
        }
    }

    /// <summary>
    /// Loads the cluster certificate from a PFX file; a missing file, a wrong password or a certificate without its
    /// private key raises <see cref="ClusterCertificateException"/> naming the file and the cause.
    /// </summary>
    public static X509Certificate2 Load(string path, string? password)
    {
        if (!File.Exists(path))
            throw new ClusterCertificateException($"cluster certificate {path}: file not found");
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(path, password);
        }
        catch (CryptographicException e)
        {
            throw new ClusterCertificateException(
                $"cluster certificate {path}: not a PFX file or wrong password ({e.Message})",
                e
            );
        }
        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new ClusterCertificateException($"cluster certificate {path}: has no private key");
        }
        return certificate;
    }

    /// <summary>The pin: the SHA-256 thumbprint in hex.</summary>
    public static string Thumbprint(X509Certificate certificate) =>
        certificate.GetCertHashString(HashAlgorithmName.SHA256);
}

/// <summary>The cluster certificate cannot be used (file, password, key).</summary>
public sealed class ClusterCertificateException(string message, Exception? inner = null) : Exception(message, inner);
