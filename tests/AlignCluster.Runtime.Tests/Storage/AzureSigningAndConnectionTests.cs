using System.Text;
using AlignCluster.Runtime.Storage;

namespace AlignCluster.Runtime.Tests.Storage;

public sealed class SharedKeySignerTests
{
    private static readonly byte[] DevKey = Convert.FromBase64String(AzureStorageAccount.DevelopmentAccountKey);

    /// <summary>
    /// A Put Blob on Azurite's path-style URL. String-to-sign derived by hand from "Authorize with Shared Key"
    /// (learn.microsoft.com/rest/api/storageservices/authorize-with-shared-key): VERB; Content-Encoding, -Language empty;
    /// Content-Length 5; Content-MD5, Content-Type, Date, If-Modified-Since empty; If-Match "0x8DC2"; If-None-Match,
    /// If-Unmodified-Since, Range empty; x-ms-* headers lower-cased and sorted, the value "  a   b " folded to "a b";
    /// resource = "/" + account + path, where the emulator's path starts with the account again.
    /// Signature computed independently with Python: base64(hmac.new(key, sts, hashlib.sha256).digest()).
    /// </summary>
    [Fact]
    public void Put_blob_signature_matches_a_hand_derived_vector()
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, "http://127.0.0.1:10000/devstoreaccount1/state/grains/k1")
        { Content = new ByteArrayContent(Encoding.ASCII.GetBytes("hello")) };
        request.Headers.TryAddWithoutValidation("x-ms-version", "2023-11-03");
        request.Headers.TryAddWithoutValidation("x-ms-date", "Mon, 23 Nov 2026 06:00:00 GMT");
        request.Headers.TryAddWithoutValidation("x-ms-blob-type", "BlockBlob");
        request.Headers.TryAddWithoutValidation("x-ms-meta-note", "  a   b ");
        request.Headers.TryAddWithoutValidation("If-Match", "\"0x8DC2\"");

        const string expected = "PUT\n\n\n5\n\n\n\n\n\"0x8DC2\"\n\n\n\n" +
                                "x-ms-blob-type:BlockBlob\nx-ms-date:Mon, 23 Nov 2026 06:00:00 GMT\nx-ms-meta-note:a b\nx-ms-version:2023-11-03\n" +
                                "/devstoreaccount1/devstoreaccount1/state/grains/k1";
        var headers = request.Headers.NonValidated.Select(h => new KeyValuePair<string, string>(h.Key, h.Value.ToString()))
            .Append(new("Content-Length", "5"));
        Assert.Equal(expected, SharedKeySigner.StringToSign("PUT", headers, request.RequestUri!, "devstoreaccount1"));

        SharedKeySigner.Sign(request, "devstoreaccount1", DevKey);
        Assert.Equal("SharedKey devstoreaccount1:KbG9YxFKrhoCDdUIHCtbd4fBIB5YnnUot328S18PjI8=", request.Headers.GetValues("Authorization").Single());
    }

    /// <summary>
    /// List Blobs: no body, so Content-Length is empty; query parameters go into the resource sorted by name with their
    /// decoded values ("grains%2Fa%20b" → "grains/a b"). Signature from Python as above, with the same key bytes.
    /// </summary>
    [Fact]
    public void List_signature_canonicalizes_the_query()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://myaccount.blob.core.windows.net/state?restype=container&comp=list&prefix=grains%2Fa%20b");
        request.Headers.TryAddWithoutValidation("x-ms-date", "Mon, 23 Nov 2026 06:00:00 GMT");
        request.Headers.TryAddWithoutValidation("x-ms-version", "2023-11-03");
        SharedKeySigner.Sign(request, "myaccount", DevKey);
        Assert.Equal("SharedKey myaccount:Ef3fx6a+KfUwnUK0hT4QJV42QvhBsZ1916s+701ZBu0=", request.Headers.GetValues("Authorization").Single());
    }
}

public sealed class AzureStorageAccountTests
{
    [Fact]
    public void Development_storage_is_azurite_on_port_10000()
    {
        var account = AzureStorageAccount.Parse("UseDevelopmentStorage=true;Container=state");
        Assert.Equal("devstoreaccount1", account.AccountName);
        Assert.Equal(new Uri("http://127.0.0.1:10000/devstoreaccount1"), account.BlobEndpoint);
        Assert.Equal(Convert.FromBase64String(AzureStorageAccount.DevelopmentAccountKey), account.AccountKey);
        Assert.Equal("state", account.Container);
    }

    [Fact]
    public void Azurite_explicit_form_keeps_the_path_style_endpoint()
    {
        var account = AzureStorageAccount.Parse(
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + AzureStorageAccount.DevelopmentAccountKey +
            ";BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;");
        Assert.Equal(new Uri("http://127.0.0.1:10000/devstoreaccount1"), account.BlobEndpoint);
        Assert.Null(account.Container);
    }

    [Fact]
    public void Cloud_form_builds_the_account_endpoint()
    {
        var account = AzureStorageAccount.Parse("DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=a2V5;EndpointSuffix=core.windows.net");
        Assert.Equal(new Uri("https://acct.blob.core.windows.net"), account.BlobEndpoint);
        Assert.Equal("key"u8.ToArray(), account.AccountKey); // "a2V5" is base64 of "key"
    }

    [Theory]
    [InlineData("AccountName=acct", "AccountKey is missing")]
    [InlineData("AccountName=acct;AccountKey=not base64!", "AccountKey is not valid base64")]
    [InlineData("AccountName=acct;AccountKey=a2V5;BlobEndpoint=ftp://x", "BlobEndpoint 'ftp://x'")]
    [InlineData("UseDevelopmentStorage=true;Container=Bad_Name", "Container 'Bad_Name'")]
    [InlineData("garbage", "'garbage' is not NAME=VALUE")]
    public void Bad_connection_strings_name_the_field(string connectionString, string expected)
    {
        var ex = Assert.Throws<FormatException>(() => AzureStorageAccount.Parse(connectionString));
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void The_factory_builds_a_blob_store_and_requires_a_container()
    {
        using var store = Assert.IsType<AzureBlobStateStore>(StateStoreFactory.Create("azureblob:UseDevelopmentStorage=true;Container=state"));
        Assert.Equal("azureblob:devstoreaccount1/state", store.Name);
        var ex = Assert.Throws<FormatException>(() => StateStoreFactory.Create("azureblob:UseDevelopmentStorage=true"));
        Assert.Contains("Container=NAME", ex.Message);
    }
}
