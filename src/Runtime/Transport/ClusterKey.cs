using System.Security.Cryptography;
using System.Text;

namespace AlignCluster.Runtime.Transport;

/// <summary>
/// The cluster's shared secret. Peers present a bearer token derived from it (HMAC-SHA256 of a fixed label), so the
/// key itself never travels; the silo compares tokens in constant time before serving any call.
/// </summary>
/// <remarks>
/// The token is a static credential: on an untrusted network put TLS in front (the default bind is 127.0.0.1).
/// </remarks>
public sealed class ClusterKey
{
    private const string Label = "aligncluster/cluster-key/v1";
    private readonly byte[] _token;

    /// <summary>The value of the <c>authorization</c> header a peer sends: "Bearer &lt;token&gt;".</summary>
    public string AuthorizationHeader { get; }

    public ClusterKey(string secret)
    {
        if (string.IsNullOrWhiteSpace(secret))
            throw new ArgumentException("cluster key is empty: set cluster.key in the silo YAML or ALIGNCLUSTER_CLUSTER__KEY", nameof(secret));
        if (secret.Length < 16)
            throw new ArgumentException($"cluster key is too short ({secret.Length} characters; use at least 16)", nameof(secret));
        _token = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(Label));
        AuthorizationHeader = "Bearer " + Convert.ToHexStringLower(_token);
    }

    /// <summary>True when <paramref name="authorizationHeader"/> carries this cluster's token.</summary>
    public bool Accepts(string? authorizationHeader)
    {
        if (authorizationHeader is null || !authorizationHeader.StartsWith("Bearer ", StringComparison.Ordinal)) return false;
        var hex = authorizationHeader.AsSpan(7).Trim();
        if (hex.Length != _token.Length * 2) return false;
        Span<byte> presented = stackalloc byte[_token.Length];
        try { Convert.FromHexString(hex, presented, out _, out _); }
        catch (FormatException) { return false; }
        return CryptographicOperations.FixedTimeEquals(presented, _token);
    }

    /// <summary>A fresh random key (for deploy scripts and tests).</summary>
    public static string Generate() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
}
