using System.Net;
using System.Text;
using AlignCluster.Runtime.Storage;

using static AlignCluster.Runtime.Tests.Storage.TestBytes;

namespace AlignCluster.Runtime.Tests.Storage;

[Collection(AzuriteCollection.Name)]
public sealed class AzureBlobStateStoreContractTests(AzuriteFixture azurite) : StateStoreContractTests, IDisposable
{
    private readonly AzureBlobStateStore _store = azurite.CreateStore();

    protected override IStateStore Store => _store;

    public void Dispose() => _store.Dispose();
}

[Collection(AzuriteCollection.Name)]
public sealed class AzureBlobStateStoreTests(AzuriteFixture azurite)
{

    [Fact]
    public async Task The_blob_container_is_created_on_the_first_write()
    {
        var container = "fresh-" + Guid.NewGuid().ToString("N")[..8];
        using var store = azurite.CreateStore(container);
        Assert.Null(await store.ReadAsync("grains", "k"));          // missing container reads as missing record
        await store.DeleteAsync("grains", "k", null);                // and deletes as nothing to delete
        Assert.Empty(await ToListAsync(store.ListAsync("grains")));
        var etag = await store.WriteAsync("grains", "k", Bytes("v"), null);
        Assert.Equal(etag, (await store.ReadAsync("grains", "k"))!.Etag);
    }

    [Fact]
    public async Task Records_are_blobs_named_container_slash_encoded_key()
    {
        using var store = azurite.CreateStore();
        var container = "c" + Guid.NewGuid().ToString("N")[..8];
        await store.WriteAsync(container, "Grain/1", Bytes("v"), null);
        // Read the blob back by its expected name with a second store call path: list the raw container over REST.
        using var http = new HttpClient();
        var uri = new Uri($"http://127.0.0.1:{azurite.Port}/devstoreaccount1/state?restype=container&comp=list&prefix={container}/");
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.TryAddWithoutValidation("x-ms-date", DateTime.UtcNow.ToString("R"));
        request.Headers.TryAddWithoutValidation("x-ms-version", "2023-11-03");
        SharedKeySigner.Sign(request, AzureStorageAccount.DevelopmentAccountName, Convert.FromBase64String(AzureStorageAccount.DevelopmentAccountKey));
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains($"<Name>{container}/Grain~2F1</Name>", await response.Content.ReadAsStringAsync()); // '/' = 0x2F
    }

    [Fact]
    public async Task Listing_follows_continuation_markers_across_pages()
    {
        using var store = azurite.CreateStore(options: new AzureBlobStoreOptions { ListPageSize = 2 });
        var container = "c" + Guid.NewGuid().ToString("N")[..8];
        string[] keys = ["k1", "k2", "k3", "k4", "k5"];
        foreach (var key in keys) await store.WriteAsync(container, key, Bytes(key), null);
        Assert.Equal(keys, await ToListAsync(store.ListAsync(container))); // 3 pages of at most 2
    }

    [Fact]
    public async Task A_wrong_account_key_is_refused_and_reported_with_the_endpoint()
    {
        var wrongKey = Convert.ToBase64String(new byte[64]);
        var account = AzureStorageAccount.Parse(azurite.ConnectionString()) with { AccountKey = Convert.FromBase64String(wrongKey) };
        using var store = new AzureBlobStateStore(account);
        var ex = await Assert.ThrowsAsync<StorageUnavailableException>(() => store.WriteAsync("grains", "k", Bytes("v"), null));
        Assert.Contains("403", ex.Message);
        Assert.Contains($"127.0.0.1:{azurite.Port}", ex.Message);
    }

    private static async Task<List<string>> ToListAsync(IAsyncEnumerable<string> keys)
    {
        var list = new List<string>();
        await foreach (var key in keys) list.Add(key);
        return list;
    }
}

/// <summary>Behaviour that needs no Azurite: unreachable endpoints and the retry policy (against a scripted HTTP handler).</summary>
public sealed class AzureBlobStateStoreRetryTests
{
    private static readonly AzureBlobStoreOptions Fast = new() { MaxAttempts = 3, FirstRetryDelay = TimeSpan.FromMilliseconds(1) };

    private static AzureStorageAccount Account(string endpoint) =>
        AzureStorageAccount.Parse($"AccountName=devstoreaccount1;AccountKey={AzureStorageAccount.DevelopmentAccountKey};BlobEndpoint={endpoint};Container=state");

    [Fact]
    public async Task An_unreachable_endpoint_raises_StorageUnavailable_naming_it()
    {
        var port = Loopback.FreePort(); // nothing listens there: connections are refused
        using var store = new AzureBlobStateStore(Account($"http://127.0.0.1:{port}/devstoreaccount1"), Fast);
        var ex = await Assert.ThrowsAsync<StorageUnavailableException>(() => store.ReadAsync("grains", "k"));
        Assert.Contains($"http://127.0.0.1:{port}/devstoreaccount1", ex.Message);
        Assert.Contains("cannot be reached", ex.Message);
        Assert.Contains("3 attempts", ex.Message);
    }

    [Fact]
    public async Task Server_errors_are_retried_until_an_answer()
    {
        var handler = new ScriptedHandler(HttpStatusCode.ServiceUnavailable, HttpStatusCode.InternalServerError, HttpStatusCode.Created);
        using var store = new AzureBlobStateStore(Account("http://127.0.0.1:1/devstoreaccount1"), Fast, handler);
        Assert.Equal("\"etag-3\"", await store.WriteAsync("grains", "k", Bytes("v"), null));
        Assert.Equal(3, handler.Calls);
        Assert.All(handler.Authorizations, a => Assert.StartsWith("SharedKey devstoreaccount1:", a)); // every attempt freshly signed
    }

    [Fact]
    public async Task Server_errors_past_the_attempts_raise_StorageUnavailable()
    {
        var handler = new ScriptedHandler(HttpStatusCode.InternalServerError, HttpStatusCode.InternalServerError, HttpStatusCode.InternalServerError);
        using var store = new AzureBlobStateStore(Account("http://127.0.0.1:1/devstoreaccount1"), Fast, handler);
        var ex = await Assert.ThrowsAsync<StorageUnavailableException>(() => store.ReadAsync("grains", "k"));
        Assert.Contains("500", ex.Message);
        Assert.Equal(3, handler.Calls);
    }

    [Theory]
    [InlineData(HttpStatusCode.PreconditionFailed)]
    [InlineData(HttpStatusCode.Conflict)]
    public async Task Precondition_failures_are_not_retried(HttpStatusCode status)
    {
        var handler = new ScriptedHandler(status, HttpStatusCode.Created);
        using var store = new AzureBlobStateStore(Account("http://127.0.0.1:1/devstoreaccount1"), Fast, handler);
        await Assert.ThrowsAsync<InconsistentStateException>(() => store.WriteAsync("grains", "k", Bytes("v"), "\"old\""));
        Assert.Equal(1, handler.Calls);
    }

    [Fact]
    public async Task A_request_that_times_out_is_retried()
    {
        var handler = new ScriptedHandler(HttpStatusCode.RequestTimeout, HttpStatusCode.OK) { HangOnFirstCall = true };
        var options = Fast with { RequestTimeout = TimeSpan.FromMilliseconds(200) };
        using var store = new AzureBlobStateStore(Account("http://127.0.0.1:1/devstoreaccount1"), options, handler);
        var record = await store.ReadAsync("grains", "k");
        Assert.Equal("\"etag-2\"", record!.Etag);
        Assert.Equal(2, handler.Calls);
    }

    [Fact]
    public async Task Cancellation_by_the_caller_is_not_reported_as_unavailable_storage()
    {
        var handler = new ScriptedHandler(HttpStatusCode.OK) { HangOnFirstCall = true };
        using var store = new AzureBlobStateStore(Account("http://127.0.0.1:1/devstoreaccount1"), Fast, handler);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.ReadAsync("grains", "k", cancel.Token));
        Assert.Equal(1, handler.Calls);
    }

    /// <summary>Answers each request with the next scripted status (ETag "etag-N" on the N-th call).</summary>
    private sealed class ScriptedHandler(params HttpStatusCode[] statuses) : HttpMessageHandler
    {
        public int Calls;
        public readonly List<string> Authorizations = [];
        public bool HangOnFirstCall { get; init; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Authorizations.Add(request.Headers.GetValues("Authorization").Single());
            if (HangOnFirstCall && Calls == 0)
            {
                Calls++;
                await Task.Delay(Timeout.Infinite, cancellationToken); // never answers; only cancellation ends it
            }
            var status = statuses[Math.Min(Calls++, statuses.Length - 1)];
            var response = new HttpResponseMessage(status);
            response.Headers.TryAddWithoutValidation("ETag", $"\"etag-{Calls}\"");
            return response;
        }
    }
}
