using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Xml.Linq;

namespace AlignCluster.Runtime.Storage;

/// <summary>Retry and timeout settings of <see cref="AzureBlobStateStore"/>.</summary>
public sealed record AzureBlobStoreOptions
{
    /// <summary>Attempts per operation, the first included (server errors 5xx/408, timeouts and connection failures are retried).</summary>
    public int MaxAttempts { get; init; } = 4;

    /// <summary>Delay before the second attempt; doubled before each further one.</summary>
    public TimeSpan FirstRetryDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Time limit of one attempt.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Blobs per List Blobs page (the service's maximum is 5000).</summary>
    public int ListPageSize { get; init; } = 5000;
}

/// <summary>
/// <see cref="IStateStore"/> on Azure Blob Storage through its REST API (the Azure SDK does not restore from our
/// package source). All records live in one blob container as block blobs named
/// <c>&lt;container&gt;/&lt;encoded key&gt;</c> (<see cref="StoreKeys.EncodeBounded"/>, no case folding, at most 900
/// characters; a shortened name keeps the key in the blob's metadata).
/// </summary>
/// <remarks>
/// Requests are signed with SharedKey (<see cref="SharedKeySigner"/>). Conditions map onto Put/Delete Blob's
/// <c>If-Match: ETAG</c> and <c>If-None-Match: *</c>; a 412 or 409 answer becomes <see cref="InconsistentStateException"/>
/// and is never retried. Server errors (5xx, 408), timeouts and connection failures are retried with exponential backoff;
/// when the attempts are spent, or on any other error answer, a <see cref="StorageUnavailableException"/> names the
/// endpoint. The blob container is created on the first write that finds it missing.
/// A write whose response was lost and then retried can report a conflict although it was applied: re-read to decide.
/// </remarks>
public sealed class AzureBlobStateStore : IStateStore, IDisposable
{
    private const string ApiVersion = "2023-11-03";
    private const int MaxBlobNameLength = 900;
    private const string KeyMetadata = "x-ms-meta-alignclusterkey";
    private readonly AzureStorageAccount _account;
    private readonly string _container;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly AzureBlobStoreOptions _options;

    /// <summary>Creates a store from a parsed account; <paramref name="handler"/> replaces the HTTP stack (tests).</summary>
    public AzureBlobStateStore(AzureStorageAccount account, AzureBlobStoreOptions? options = null, HttpMessageHandler? handler = null)
    {
        _account = account;
        _container = account.Container ?? throw new FormatException("connection string: Container=NAME is required for the blob state store");
        AzureStorageAccount.ValidateContainerName(_container);
        _options = options ?? new AzureBlobStoreOptions();
        _ownsHttp = true;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2), ConnectTimeout = TimeSpan.FromSeconds(10) })
        { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>Creates a store from a connection string that includes <c>Container=NAME</c>.</summary>
    public AzureBlobStateStore(string connectionString, AzureBlobStoreOptions? options = null)
        : this(AzureStorageAccount.Parse(connectionString), options) { }

    public string Name => $"azureblob:{_account.AccountName}/{_container}";

    /// <summary>The blob service endpoint, e.g. https://acct.blob.core.windows.net.</summary>
    public Uri Endpoint => _account.BlobEndpoint;

    public async Task<StoredRecord?> ReadAsync(string container, string key, CancellationToken cancellationToken = default)
    {
        var blob = BlobName(container, key);
        using var response = await SendAsync("read", blob, () => new HttpRequestMessage(HttpMethod.Get, BlobUri(blob)), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        EnsureSuccess(response, "read", blob);
        var data = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        return new StoredRecord(data, EtagOf(response));
    }

    public async Task<string> WriteAsync(string container, string key, ReadOnlyMemory<byte> data, string? expectedEtag, CancellationToken cancellationToken = default)
    {
        var blob = BlobName(container, key);
        for (var createdContainer = false; ; createdContainer = true)
        {
            using var response = await SendAsync("write", blob, () =>
            {
                var request = new HttpRequestMessage(HttpMethod.Put, BlobUri(blob)) { Content = new ReadOnlyMemoryContent(data) };
                request.Headers.TryAddWithoutValidation("x-ms-blob-type", "BlockBlob");
                if (StoreKeys.IsShortened(blob)) request.Headers.TryAddWithoutValidation(KeyMetadata, StoreKeys.Encode(key, foldCase: false));
                AddCondition(request, expectedEtag);
                return request;
            }, cancellationToken);
            if (response.StatusCode == HttpStatusCode.Created) return EtagOf(response);
            if (ErrorCode(response) == "ContainerNotFound" && !createdContainer)
            {
                await CreateContainerAsync(cancellationToken);
                continue;
            }
            ThrowIfConditionFailed(response, container, key, expectedEtag);
            EnsureSuccess(response, "write", blob);
            throw Unavailable($"write {blob}: unexpected answer {(int)response.StatusCode}");
        }
    }

    public async Task DeleteAsync(string container, string key, string? expectedEtag, CancellationToken cancellationToken = default)
    {
        var blob = BlobName(container, key);
        using var response = await SendAsync("delete", blob, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Delete, BlobUri(blob));
            if (expectedEtag is not null) request.Headers.TryAddWithoutValidation("If-Match", expectedEtag);
            return request;
        }, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound) return; // blob or container missing: nothing to delete
        // The service answers If-Match on a missing blob with 412 too; the contract says a missing record is no error.
        if (response.StatusCode == HttpStatusCode.PreconditionFailed && !await ExistsAsync(blob, cancellationToken)) return;
        ThrowIfConditionFailed(response, container, key, expectedEtag);
        EnsureSuccess(response, "delete", blob);
    }

    public async IAsyncEnumerable<string> ListAsync(string container, string prefix = "", [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        StoreKeys.ValidateContainer(container);
        ArgumentNullException.ThrowIfNull(prefix);
        var directory = StoreKeys.Encode(container, foldCase: false);
        var serverPrefix = StoreKeys.EncodePrefix(prefix, foldCase: false);
        // A shortened blob name keeps only the first characters of the encoded key; the server filters on that much.
        var kept = StoreKeys.ShortenedPrefixLength(KeyNameLimit(directory));
        directory += "/";
        serverPrefix = directory + serverPrefix[..Math.Min(serverPrefix.Length, kept)];
        var keys = new List<string>();
        string? marker = null;
        do
        {
            var query = $"?restype=container&comp=list&maxresults={_options.ListPageSize}&prefix={Uri.EscapeDataString(serverPrefix)}"
                        + (marker is null ? "" : $"&marker={Uri.EscapeDataString(marker)}");
            using var response = await SendAsync("list", serverPrefix, () => new HttpRequestMessage(HttpMethod.Get, ContainerUri(query)), cancellationToken);
            if (response.StatusCode == HttpStatusCode.NotFound) break; // no container yet: no keys
            EnsureSuccess(response, "list", serverPrefix);
            var xml = XDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            foreach (var name in xml.Descendants("Blob").Select(b => (string?)b.Element("Name")))
                if (name is not null && await KeyOfBlobAsync(name, directory, cancellationToken) is { } key && key.StartsWith(prefix, StringComparison.Ordinal))
                    keys.Add(key);
            marker = (string?)xml.Root?.Element("NextMarker");
        } while (!string.IsNullOrEmpty(marker));
        keys.Sort(StringComparer.Ordinal);
        foreach (var key in keys) yield return key;
    }

    public void Dispose()
    {
        if (_ownsHttp) _http.Dispose();
    }

    /// <summary>The key stored in a blob of our directory; null for blobs that are not ours.</summary>
    private async Task<string?> KeyOfBlobAsync(string blob, string directory, CancellationToken cancellationToken)
    {
        if (!blob.StartsWith(directory, StringComparison.Ordinal)) return null;
        var name = blob[directory.Length..];
        if (!StoreKeys.IsShortened(name))
        {
            var key = StoreKeys.TryDecode(name);
            return key is not null && StoreKeys.Encode(key, foldCase: false) == name ? key : null;
        }
        using var response = await SendAsync("list", blob, () => new HttpRequestMessage(HttpMethod.Head, BlobUri(blob)), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound) return null; // deleted meanwhile
        EnsureSuccess(response, "list", blob);
        return response.Headers.TryGetValues(KeyMetadata, out var values) ? StoreKeys.TryDecode(values.First()) : null;
    }

    private async Task<bool> ExistsAsync(string blob, CancellationToken cancellationToken)
    {
        using var response = await SendAsync("read", blob, () => new HttpRequestMessage(HttpMethod.Head, BlobUri(blob)), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound) return false;
        EnsureSuccess(response, "read", blob);
        return true;
    }

    private async Task CreateContainerAsync(CancellationToken cancellationToken)
    {
        using var response = await SendAsync("create container", _container,
            () => new HttpRequestMessage(HttpMethod.Put, ContainerUri("?restype=container")) { Content = new ByteArrayContent([]) }, cancellationToken);
        if (response.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict) return; // 409: created by someone else
        EnsureSuccess(response, "create container", _container);
    }

    /// <summary>Sends a freshly built and signed request, retrying server errors, timeouts and connection failures.</summary>
    private async Task<HttpResponseMessage> SendAsync(string operation, string target, Func<HttpRequestMessage> build, CancellationToken cancellationToken)
    {
        var delay = _options.FirstRetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            using var request = build();
            request.Headers.TryAddWithoutValidation("x-ms-date", DateTime.UtcNow.ToString("R", CultureInfo.InvariantCulture));
            request.Headers.TryAddWithoutValidation("x-ms-version", ApiVersion);
            SharedKeySigner.Sign(request, _account.AccountName, _account.AccountKey);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.RequestTimeout);
            string failure;
            Exception? inner = null;
            try
            {
                var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token);
                var status = (int)response.StatusCode;
                if (status < 500 && status != 408) return response;
                failure = $"answered {status} {ErrorCode(response)}".TrimEnd();
                response.Dispose();
            }
            catch (HttpRequestException ex) { (failure, inner) = ($"cannot be reached: {ex.Message}", ex); }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            { (failure, inner) = ($"did not answer within {_options.RequestTimeout.TotalSeconds:0.#} s", ex); }
            if (attempt >= _options.MaxAttempts)
                throw Unavailable($"{operation} {target}: the endpoint {failure} (after {attempt} attempts)", inner);
            await Task.Delay(delay, cancellationToken);
            delay *= 2;
        }
    }

    private static void AddCondition(HttpRequestMessage request, string? expectedEtag)
    {
        if (expectedEtag is null) request.Headers.TryAddWithoutValidation("If-None-Match", "*");
        else request.Headers.TryAddWithoutValidation("If-Match", expectedEtag);
    }

    private void ThrowIfConditionFailed(HttpResponseMessage response, string container, string key, string? expectedEtag)
    {
        var code = ErrorCode(response);
        var failed = response.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.Conflict
                     || (response.StatusCode == HttpStatusCode.NotFound && expectedEtag is not null && code == "BlobNotFound");
        if (!failed) return;
        var expected = expectedEtag is null ? "no record" : $"ETag {expectedEtag}";
        throw new InconsistentStateException($"{Name}: record {container}/{key} does not match the write's condition ({expected}): {(int)response.StatusCode} {code}".TrimEnd(),
            storedEtag: null, expectedEtag);
    }

    private void EnsureSuccess(HttpResponseMessage response, string operation, string target)
    {
        if (!response.IsSuccessStatusCode)
            throw Unavailable($"{operation} {target}: the endpoint answered {(int)response.StatusCode} {ErrorCode(response)}".TrimEnd());
    }

    private StorageUnavailableException Unavailable(string what, Exception? inner = null) =>
        new($"{Name} ({_account.BlobEndpoint}): {what}", inner);

    private static string ErrorCode(HttpResponseMessage response) =>
        response.Headers.TryGetValues("x-ms-error-code", out var values) ? values.First() : "";

    private static string EtagOf(HttpResponseMessage response) =>
        response.Headers.TryGetValues("ETag", out var values) ? values.First() : throw new InvalidOperationException("the blob service answered without an ETag");

    private string BlobName(string container, string key)
    {
        StoreKeys.ValidateContainer(container);
        StoreKeys.ValidateKey(key);
        var directory = StoreKeys.Encode(container, foldCase: false);
        return $"{directory}/{StoreKeys.EncodeBounded(key, foldCase: false, KeyNameLimit(directory))}";
    }

    private static int KeyNameLimit(string directory) => MaxBlobNameLength - directory.Length - 1;

    // Blob names hold only URL-unreserved characters and '/', so they go into the path unescaped.
    private Uri BlobUri(string blob) => new($"{_account.BlobEndpoint.AbsoluteUri.TrimEnd('/')}/{_container}/{blob}");

    private Uri ContainerUri(string query) => new($"{_account.BlobEndpoint.AbsoluteUri.TrimEnd('/')}/{_container}{query}");
}
