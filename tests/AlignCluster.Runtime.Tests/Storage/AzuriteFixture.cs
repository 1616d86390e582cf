using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AlignCluster.Runtime.Storage;

namespace AlignCluster.Runtime.Tests.Storage;

/// <summary>
/// Starts Azurite's blob service (npm, installed into .cache/npm by scripts/setup.sh) on a free loopback port for the
/// tests of one collection, and stops it by PID. A missing Azurite fails the tests: CI runs setup first.
/// </summary>
public sealed class AzuriteFixture : IDisposable
{
    private readonly Process _process;
    private readonly string _location;
    private readonly List<string> _output = [];

    public AzuriteFixture() : this(Path.Combine(Path.GetTempPath(), "aligncluster-azurite-" + Guid.NewGuid().ToString("N"))) { }

    /// <summary>Azurite over <paramref name="location"/>, which may hold what an earlier Azurite stored (deleted on
    /// dispose).</summary>
    internal AzuriteFixture(string location)
    {
        _location = location;
        var executable = FindAzurite();
        Port = Loopback.FreePort();
        Directory.CreateDirectory(_location);
        var start = new ProcessStartInfo(executable,
            ["--blobHost", "127.0.0.1", "--blobPort", Port.ToString(), "--location", _location, "--silent", "--loose", "--skipApiVersionCheck"])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        _process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {executable}");
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.Add(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.Add(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        WaitForPort();
    }

    public int Port { get; }

    /// <summary>Connection string of the development account on this Azurite, with the given blob container.</summary>
    public string ConnectionString(string container = "state") => ConnectionString(Port, container);

    /// <summary>Connection string of the development account on an Azurite listening on <paramref name="port"/>.</summary>
    public static string ConnectionString(int port, string container) =>
        $"DefaultEndpointsProtocol=http;AccountName={AzureStorageAccount.DevelopmentAccountName};AccountKey={AzureStorageAccount.DevelopmentAccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{port}/{AzureStorageAccount.DevelopmentAccountName};Container={container}";

    public AzureBlobStateStore CreateStore(string container = "state", AzureBlobStoreOptions? options = null) =>
        new(AzureStorageAccount.Parse(ConnectionString(container)), options);

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        finally
        {
            _process.Dispose();
            try { Directory.Delete(_location, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>Walks up from the test's base directory to the checkout's .cache/npm.</summary>
    private static string FindAzurite()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, ".cache", "npm", "node_modules", ".bin", "azurite-blob");
            if (File.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException(
            $"Azurite was not found in .cache/npm above {AppContext.BaseDirectory}: run `bash scripts/setup.sh` in the checkout (it installs azurite with npm)");
    }


    private void WaitForPort()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"azurite-blob exited with code {_process.ExitCode}: {string.Join('\n', Output())}");
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) { Thread.Sleep(100); }
        }
        Dispose();
        throw new InvalidOperationException($"azurite-blob did not listen on 127.0.0.1:{Port} within 60 s: {string.Join('\n', Output())}");
    }

    private string[] Output() { lock (_output) return _output.ToArray(); }
}

[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}
