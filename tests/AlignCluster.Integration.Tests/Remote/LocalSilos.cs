using System.Diagnostics;
using System.Text.RegularExpressions;
using AlignCluster.Client.Cluster;
using AlignCluster.Tests.Shared;

namespace AlignCluster.Integration.Tests.Remote;

/// <summary>
/// Silo processes started by deploy/local/cluster.sh in a fresh run folder on free ports (CLUSTER_DIR, BASE_PORT),
/// with TLS (the script creates the cluster certificate in the run folder), stopped in <see cref="DisposeAsync"/>.
/// </summary>
public partial class LocalSilos : IAsyncLifetime
{
    /// <summary>One keeps the tests light on 2 cores; the CLI path is the same for N.</summary>
    protected virtual int SiloCount => 1;

    /// <summary>The script's STORAGE: local (files, silo 0 keeps the membership) or azure (Azurite).</summary>
    protected virtual string Storage => "local";

    /// <summary>The script's CPU_DEVICES (devices per silo, e.g. "0,1"); null: its default, one each.</summary>
    protected virtual string? CpuDevices => null;

    /// <summary>More ALIGNCLUSTER_* settings for the silos.</summary>
    protected virtual IReadOnlyDictionary<string, string> SiloSettings => new Dictionary<string, string>();
    private readonly string _root = FindRepoRoot();
    private readonly List<int> _pids = [];

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("aligncluster-remote-").FullName;
    public int BasePort => _basePort ??= LoopbackPorts.FindFreeBasePort(SiloCount);
    private int? _basePort;
    public List<string> Gateways { get; } = [];

    /// <summary>The cluster certificate cluster.sh created; clients present it.</summary>
    public string Certificate => Path.Combine(Directory, "cluster.pfx");

    /// <summary>Azurite's connection string (STORAGE=azure: cluster.sh writes it into the run folder).</summary>
    public string StorageConnection => File.ReadAllText(Path.Combine(Directory, "connection-string")).Trim();

    /// <summary>Process ids of the silos, by index (a restart replaces one).</summary>
    public IReadOnlyList<int> Pids => _pids;

    /// <summary>The CLI as a subprocess with the cluster certificate in its environment.</summary>
    public (int Code, string Out, string Err) Cli(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string?> { [RemoteCluster.CertificateVariable] = Certificate }, args);

    /// <summary>A client of these silos (with the cluster certificate).</summary>
    public Task<RemoteCluster> ConnectAsync() => RemoteCluster.ConnectAsync(Gateways, Certificate);

    /// <summary>kill -9 of silo <paramref name="index"/>: no goodbye to the cluster.</summary>
    public void Kill(int index)
    {
        using var process = Process.GetProcessById(_pids[index]);
        process.Kill();
        process.WaitForExit(10_000);
    }

    /// <summary>`cluster.sh restart I`; returns the script's output.</summary>
    public async Task<string> RestartAsync(int index)
    {
        string output = await ScriptAsync($"restart {index}", TimeSpan.FromSeconds(150));
        _pids[index] = int.Parse(ReadyLine().Match(output).Groups["pid"].Value);
        return output;
    }

    public async Task InitializeAsync()
    {
        string output = await ScriptAsync($"start {SiloCount}", TimeSpan.FromSeconds(150));
        foreach (Match m in ReadyLine().Matches(output))
        {
            Gateways.Add(m.Groups["gateway"].Value);
            _pids.Add(int.Parse(m.Groups["pid"].Value));
        }
        if (Gateways.Count != SiloCount)
            throw new InvalidOperationException($"expected {SiloCount} SILO READY lines, got:\n{output}");
    }

    public async Task DisposeAsync()
    {
        try
        {
            await ScriptAsync("stop", TimeSpan.FromSeconds(90));
        }
        catch (Exception)
        { /* best effort; the kill below is the fallback */
        }
        foreach (int pid in _pids)
            try
            {
                Process.GetProcessById(pid).Kill();
            }
            catch (ArgumentException) { }
            catch (InvalidOperationException) { }
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException) { }
    }

    public async Task<string> ScriptAsync(string arguments, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _root,
        };
        psi.ArgumentList.Add(Path.Combine(_root, "deploy", "local", "cluster.sh"));
        foreach (var a in arguments.Split(' '))
            psi.ArgumentList.Add(a);
        psi.Environment["CLUSTER_DIR"] = Directory;
        psi.Environment["BASE_PORT"] = BasePort.ToString();
        psi.Environment["STORAGE"] = Storage;
        if (CpuDevices is not null)
            psi.Environment["CPU_DEVICES"] = CpuDevices;
        foreach (var (key, value) in SiloSettings)
            psi.Environment[key] = value;
        // The silo built beside these tests (the test project references it), so the configuration always matches.
        psi.Environment["SILO_DLL"] = Path.Combine(AppContext.BaseDirectory, "AlignCluster.Silo.dll");
        using var script = Process.Start(psi)!;
        var stdout = script.StandardOutput.ReadToEndAsync();
        var stderr = script.StandardError.ReadToEndAsync();
        await script.WaitForExitAsync().WaitAsync(timeout);
        if (script.ExitCode != 0)
            throw new InvalidOperationException(
                $"cluster.sh {arguments} failed ({script.ExitCode}): {await stderr}\n{await stdout}"
            );
        return await stdout;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "AlignCluster.sln")))
                return dir.FullName;
        throw new InvalidOperationException($"no AlignCluster.sln above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"SILO READY \S+ gateway=(?<gateway>\S+) pid=(?<pid>\d+)")]
    private static partial Regex ReadyLine();
}

/// <summary>Two silo processes with one CPU device each: two device-pinned trainers must sit on different
/// silos.</summary>
public sealed class TwoLocalSilos : LocalSilos
{
    protected override int SiloCount => 2;
}
