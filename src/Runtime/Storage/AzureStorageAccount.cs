namespace AlignCluster.Runtime.Storage;

/// <summary>
/// The parts of an Azure Storage connection string the blob store needs: account name, SharedKey and blob endpoint.
/// </summary>
/// <remarks>
/// Accepted forms (keys are case-insensitive, pairs separated by ';'):
/// <list type="bullet">
/// <item><c>DefaultEndpointsProtocol=https;AccountName=A;AccountKey=K[;EndpointSuffix=core.windows.net]</c> → https://A.blob.core.windows.net</item>
/// <item><c>AccountName=A;AccountKey=K;BlobEndpoint=URL</c> (Azurite: http://127.0.0.1:10000/devstoreaccount1)</item>
/// <item><c>UseDevelopmentStorage=true[;DevelopmentStorageProxyUri=http://HOST]</c> → Azurite's well-known devstoreaccount1 at port 10000</item>
/// </list>
/// Any pair may add <c>Container=NAME</c> (our extension: the one blob container all records live in).
/// </remarks>
public sealed record AzureStorageAccount(string AccountName, byte[] AccountKey, Uri BlobEndpoint, string? Container)
{
    /// <summary>Azurite's documented development account (public, not a secret).</summary>
    public const string DevelopmentAccountName = "devstoreaccount1";

    /// <summary>Azurite's documented development key (public, not a secret).</summary>
    public const string DevelopmentAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>Parses a connection string; throws <see cref="FormatException"/> naming the missing or bad field (never echoing the key).</summary>
    public static AzureStorageAccount Parse(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0) throw new FormatException($"connection string: '{Redact(part)}' is not NAME=VALUE");
            fields[part[..eq].Trim()] = part[(eq + 1)..].Trim(); // a base64 key may end in '=': split at the first one only
        }
        fields.TryGetValue("Container", out var container);
        if (container is not null) ValidateContainerName(container);

        if (fields.TryGetValue("UseDevelopmentStorage", out var dev) && bool.TryParse(dev, out var useDev) && useDev)
        {
            var proxy = fields.TryGetValue("DevelopmentStorageProxyUri", out var p) ? new Uri(p) : new Uri("http://127.0.0.1");
            var endpoint = new UriBuilder(proxy) { Port = 10000, Path = DevelopmentAccountName }.Uri;
            return new AzureStorageAccount(DevelopmentAccountName, Convert.FromBase64String(DevelopmentAccountKey), endpoint, container);
        }

        var account = Required(fields, "AccountName");
        var keyText = Required(fields, "AccountKey");
        byte[] key;
        try { key = Convert.FromBase64String(keyText); }
        catch (FormatException) { throw new FormatException("connection string: AccountKey is not valid base64"); }

        Uri blobEndpoint;
        if (fields.TryGetValue("BlobEndpoint", out var explicitEndpoint))
        {
            if (!Uri.TryCreate(explicitEndpoint.TrimEnd('/'), UriKind.Absolute, out blobEndpoint!) || blobEndpoint.Scheme is not ("http" or "https"))
                throw new FormatException($"connection string: BlobEndpoint '{explicitEndpoint}' is not an http(s) URL");
        }
        else
        {
            var protocol = fields.GetValueOrDefault("DefaultEndpointsProtocol", "https").ToLowerInvariant();
            if (protocol is not ("http" or "https"))
                throw new FormatException($"connection string: DefaultEndpointsProtocol must be http or https, got '{protocol}'");
            var suffix = fields.GetValueOrDefault("EndpointSuffix", "core.windows.net");
            blobEndpoint = new Uri($"{protocol}://{account}.blob.{suffix}");
        }
        return new AzureStorageAccount(account, key, blobEndpoint, container);
    }

    /// <summary>Azure's container naming rules: 3–63 of a-z, 0-9, '-'; starts and ends with a letter or digit; no "--".</summary>
    public static void ValidateContainerName(string name)
    {
        var valid = name.Length is >= 3 and <= 63
            && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')
            && name[0] != '-' && name[^1] != '-' && !name.Contains("--");
        if (!valid)
            throw new FormatException($"connection string: Container '{name}' is not a valid blob container name (3-63 of a-z, 0-9, '-'; no leading, trailing or double '-')");
    }

    /// <summary>The endpoint without credentials, for messages.</summary>
    public override string ToString() => $"{AccountName} at {BlobEndpoint}";

    private static string Required(Dictionary<string, string> fields, string name) =>
        fields.TryGetValue(name, out var value) && value.Length > 0
            ? value
            : throw new FormatException($"connection string: {name} is missing (or use UseDevelopmentStorage=true)");

    private static string Redact(string part) => part.StartsWith("AccountKey", StringComparison.OrdinalIgnoreCase) ? "AccountKey…" : part;
}
