using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace AlignCluster.Hosting.Tests.Infrastructure;

/// <summary>
/// A private Azurite (blob, queue and table services) on free loopback ports with its data in a temp folder, for
/// one test class. scripts/setup.sh installs Azurite into .cache/npm; a missing install fails the tests (it is part of
/// what CI sets up), it does not skip them.
/// </summary>
public sealed class Azurite : IAsyncLifetime
{
    // Azurite's fixed development account (the well-known emulator key, public by design).
    private const string Account = "devstoreaccount1";
    private const string Key =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private Process? _process;
    private readonly string _folder = Directory.CreateTempSubdirectory("azurite-").FullName;

    public int BlobPort { get; private set; }
    public int QueuePort { get; private set; }
    public int TablePort { get; private set; }

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={Key};"
        + $"BlobEndpoint=http://127.0.0.1:{BlobPort}/{Account};"
        + $"QueueEndpoint=http://127.0.0.1:{QueuePort}/{Account};"
        + $"TableEndpoint=http://127.0.0.1:{TablePort}/{Account};";

    public async Task InitializeAsync()
    {
        string azurite = Path.Combine(RepoRoot.Path, ".cache", "npm", "node_modules", ".bin", "azurite");
        if (!File.Exists(azurite))
            throw new InvalidOperationException($"Azurite is not installed at {azurite}: run scripts/setup.sh");
        for (int attempt = 1; ; attempt++)
        {
            (BlobPort, QueuePort, TablePort) = (FreePort(), FreePort(), FreePort());
            var start = new ProcessStartInfo(azurite)
            {
                ArgumentList =
                {
                    "--blobHost",
                    "127.0.0.1",
                    "--blobPort",
                    BlobPort.ToString(),
                    "--queueHost",
                    "127.0.0.1",
                    "--queuePort",
                    QueuePort.ToString(),
                    "--tableHost",
                    "127.0.0.1",
                    "--tablePort",
                    TablePort.ToString(),
                    "--location",
                    _folder,
                    "--silent",
                    "--skipApiVersionCheck",
                    "--loose",
                },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            _process = Process.Start(start)!;
            _process.OutputDataReceived += (_, _) => { };
            _process.ErrorDataReceived += (_, _) => { };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
            if (await WaitForPortsAsync(TimeSpan.FromSeconds(60)))
                return;
            Stop();
            // A port taken between probing and binding: try new ones.
            if (attempt == 3)
                throw new InvalidOperationException("Azurite did not start listening within 60 s");
        }
    }

    private async Task<bool> WaitForPortsAsync(TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            if (_process!.HasExited)
                return false;
            if (IsListening(BlobPort) && IsListening(QueuePort) && IsListening(TablePort))
                return true;
            await Task.Delay(100);
        }
        return false;
    }

    public Task DisposeAsync()
    {
        Stop();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException) { }
        return Task.CompletedTask;
    }

    private void Stop()
    {
        if (_process is null)
            return;
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
        _process = null;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool IsListening(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

/// <summary>The repository root (the folder holding AlignCluster.sln), found from the test binaries upward.</summary>
public static class RepoRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "AlignCluster.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("AlignCluster.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A temp folder deleted with the test.</summary>
public sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("hosting-test-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException) { }
    }
}
