using AlignCluster.Tests.Shared;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace AlignCluster.Integration.Tests.Remote;

/// <summary>
/// Silo processes started by deploy/local/cluster.sh in a fresh run folder on free ports (CLUSTER_DIR, BASE_PORT),
/// stopped in <see cref="DisposeAsync"/>.
/// </summary>
public partial class LocalSilos : IAsyncLifetime
{
    /// <summary>One keeps the tests light on 2 cores; the CLI path is the same for N.</summary>
    protected virtual int SiloCount => 1;
    private readonly string _root = FindRepoRoot();
    private readonly List<int> _pids = [];

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("aligncluster-remote-").FullName;
    public int BasePort => _basePort ??= LoopbackPorts.FindFreeBasePort(SiloCount);
    private int? _basePort;
    public List<string> Gateways { get; } = [];

    public async Task InitializeAsync()
    {
        string output = await ScriptAsync($"start {SiloCount}", TimeSpan.FromSeconds(150));
        foreach (Match m in ReadyLine().Matches(output))
        {
            Gateways.Add(m.Groups["gateway"].Value);
            _pids.Add(int.Parse(m.Groups["pid"].Value));
        }
        if (Gateways.Count != SiloCount) throw new InvalidOperationException($"expected {SiloCount} SILO READY lines, got:\n{output}");
    }

    public async Task DisposeAsync()
    {
        try { await ScriptAsync("stop", TimeSpan.FromSeconds(90)); } catch (Exception) { /* best effort; the kill below is the fallback */ }
        foreach (int pid in _pids)
            try { Process.GetProcessById(pid).Kill(); } catch (ArgumentException) { } catch (InvalidOperationException) { }
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }

    private async Task<string> ScriptAsync(string arguments, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _root };
        psi.ArgumentList.Add(Path.Combine(_root, "deploy", "local", "cluster.sh"));
        foreach (var a in arguments.Split(' ')) psi.ArgumentList.Add(a);
        psi.Environment["CLUSTER_DIR"] = Directory;
        psi.Environment["BASE_PORT"] = BasePort.ToString();
        // The silo built beside these tests (the test project references it), so the configuration always matches.
        psi.Environment["SILO_DLL"] = Path.Combine(AppContext.BaseDirectory, "AlignCluster.Silo.dll");
        using var script = Process.Start(psi)!;
        var stdout = script.StandardOutput.ReadToEndAsync();
        var stderr = script.StandardError.ReadToEndAsync();
        await script.WaitForExitAsync().WaitAsync(timeout);
        if (script.ExitCode != 0) throw new InvalidOperationException($"cluster.sh {arguments} failed ({script.ExitCode}): {await stderr}\n{await stdout}");
        return await stdout;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "AlignCluster.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no AlignCluster.sln above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"SILO READY \S+ gateway=(?<gateway>\S+) pid=(?<pid>\d+)")]
    private static partial Regex ReadyLine();
}

/// <summary>Two silo processes with one CPU device each: two device-pinned trainers must sit on different silos.</summary>
public sealed class TwoLocalSilos : LocalSilos
{
    protected override int SiloCount => 2;
}
