using System.Security.Cryptography;
using System.Text;

namespace AlignCluster.Runtime.Storage;

/// <summary>
/// Azure Storage "SharedKey" request signing (the Blob service, x-ms-version 2015-02-21 or later):
/// <c>Authorization: SharedKey ACCOUNT:base64(HMAC-SHA256(key, StringToSign))</c>.
/// </summary>
/// <remarks>
/// StringToSign = VERB, Content-Encoding, Content-Language, Content-Length (empty when 0), Content-MD5, Content-Type,
/// Date, If-Modified-Since, If-Match, If-None-Match, If-Unmodified-Since, Range — each followed by "\n" — then the
/// canonicalized headers (every x-ms-* header, lower-cased name, sorted, "name:value\n" with whitespace runs folded),
/// then the canonicalized resource ("/" + account + the encoded URI path, then for each query parameter sorted by
/// lower-cased name "\nname:value" with the decoded values of a repeated name sorted and joined by ',').
/// </remarks>
public static class SharedKeySigner
{
    private static readonly string[] StandardHeaders =
        ["Content-Encoding", "Content-Language", "Content-Length", "Content-MD5", "Content-Type", "Date",
         "If-Modified-Since", "If-Match", "If-None-Match", "If-Unmodified-Since", "Range"];

    /// <summary>Adds the Authorization header to a request whose other headers (x-ms-date included) are final.</summary>
    public static void Sign(HttpRequestMessage request, string accountName, byte[] accountKey)
    {
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var (name, values) in request.Headers.NonValidated) headers.Add(new(name, values.ToString()));
        if (request.Content is not null)
        {
            _ = request.Content.Headers.ContentLength; // computes Content-Length for buffered content so it is listed below
            foreach (var (name, values) in request.Content.Headers.NonValidated) headers.Add(new(name, values.ToString()));
        }
        var stringToSign = StringToSign(request.Method.Method, headers, request.RequestUri!, accountName);
        request.Headers.TryAddWithoutValidation("Authorization", $"SharedKey {accountName}:{Signature(stringToSign, accountKey)}");
    }

    /// <summary>base64(HMAC-SHA256(key, UTF-8(stringToSign))).</summary>
    public static string Signature(string stringToSign, byte[] accountKey) =>
        Convert.ToBase64String(HMACSHA256.HashData(accountKey, Encoding.UTF8.GetBytes(stringToSign)));

    /// <summary>The string to sign for a request (see the class remarks).</summary>
    public static string StringToSign(string method, IEnumerable<KeyValuePair<string, string>> headers, Uri uri, string accountName)
    {
        var byName = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in headers) byName[name] = value;

        var sb = new StringBuilder(method.ToUpperInvariant()).Append('\n');
        foreach (var name in StandardHeaders)
        {
            var value = byName.GetValueOrDefault(name, "");
            if (name == "Content-Length" && value == "0") value = "";
            sb.Append(value).Append('\n');
        }
        foreach (var (name, value) in byName.Where(h => h.Key.StartsWith("x-ms-", StringComparison.OrdinalIgnoreCase))
                     .Select(h => (Name: h.Key.ToLowerInvariant(), h.Value)).OrderBy(h => h.Name, StringComparer.Ordinal))
            sb.Append(name).Append(':').Append(FoldWhitespace(value)).Append('\n');

        sb.Append('/').Append(accountName).Append(uri.AbsolutePath.Length > 0 ? uri.AbsolutePath : "/");
        foreach (var group in ParseQuery(uri.Query).GroupBy(q => q.Name.ToLowerInvariant()).OrderBy(g => g.Key, StringComparer.Ordinal))
            sb.Append('\n').Append(group.Key).Append(':')
              .Append(string.Join(",", group.Select(q => q.Value).Order(StringComparer.Ordinal)));
        return sb.ToString();
    }

    private static IEnumerable<(string Name, string Value)> ParseQuery(string query)
    {
        foreach (var pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            var name = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
            yield return (name, eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..]));
        }
    }

    private static string FoldWhitespace(string value) =>
        string.Join(' ', value.Trim().Split([' ', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries));
}
