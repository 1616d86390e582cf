using AlignCluster.Tests.Shared;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace AlignCluster.Runtime.Tests.Net;

/// <summary>Drives deploy/local/cluster.sh for the multi-process tests: start N silo processes, kill one, stop all.</summary>
public sealed partial class LocalClusterProcess : IAsyncDisposable
{
    public sealed record Silo(string Address, string Gateway, int Pid);

    private readonly Dictionary<string, string> _environment;
    public string Directory { get; }
    public string Key { get; }
    /// <summary>Silo i listens on BasePort + i; the script's Azurite on BasePort − 1000.</summary>
    public int BasePort { get; }
    public List<Silo> Silos { get; } = [];

    public LocalClusterProcess(string key, IReadOnlyDictionary<string, string> extraEnvironment)
    {
        Key = key;
        Directory = System.IO.Directory.CreateTempSubdirectory("aligncluster-local-").FullName;
        int basePort = BasePort = LoopbackPorts.FindFreeBasePort(4);   // three silos + one spare, as before
        _environment = new Dictionary<string, string>(extraEnvironment)
        {
            ["CLUSTER_DIR"] = Directory,
            ["BASE_PORT"] = basePort.ToString(),
            ["ALIGNCLUSTER_CLUSTER__KEY"] = key,
            ["SILO_DLL"] = SiloDll(),
        };
    }

    /// <summary>The silo build next to ours (Release), with a clear error when it was not built.</summary>
    internal static string SiloDll()
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}") ? "Debug" : "Release";
        var dll = Path.Combine(RepoPaths.Root, "src", "Silo", "bin", configuration, "net10.0", "AlignCluster.Silo.dll");
        if (!File.Exists(dll)) throw new InvalidOperationException($"the silo is not built ({dll} missing): run `dotnet build AlignCluster.sln -c {configuration}`");
        return dll;
    }

    public async Task StartAsync(int silos)
    {
        var output = await RunScriptAsync($"start {silos}", TimeSpan.FromSeconds(150));
        foreach (Match m in ReadyLine().Matches(output))
            Silos.Add(new Silo(m.Groups["address"].Value, m.Groups["gateway"].Value, int.Parse(m.Groups["pid"].Value)));
        if (Silos.Count != silos) throw new InvalidOperationException($"expected {silos} SILO READY lines, got:\n{output}");
    }

    public Task StopAsync() => RunScriptAsync("stop", TimeSpan.FromSeconds(90));

    public static void Kill9(int pid) => Process.GetProcessById(pid).Kill();   // SIGKILL on Linux

    public string SiloLog(int index) => File.ReadAllText(Path.Combine(Directory, $"silo-{index}.log"));

    private async Task<string> RunScriptAsync(string arguments, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoPaths.Root };
        psi.ArgumentList.Add(Path.Combine(RepoPaths.Root, "deploy", "local", "cluster.sh"));
        foreach (var a in arguments.Split(' ')) psi.ArgumentList.Add(a);
        foreach (var (k, v) in _environment) psi.Environment[k] = v;
        using var script = Process.Start(psi)!;
        var stdout = script.StandardOutput.ReadToEndAsync();
        var stderr = script.StandardError.ReadToEndAsync();
        await script.WaitForExitAsync().WaitAsync(timeout);
        if (script.ExitCode != 0) throw new InvalidOperationException($"cluster.sh {arguments} failed ({script.ExitCode}): {await stderr}\n{await stdout}");
        return await stdout;
    }

    [GeneratedRegex(@"SILO READY (?<address>\S+) gateway=(?<gateway>\S+) pid=(?<pid>\d+)")]
    private static partial Regex ReadyLine();

    public async ValueTask DisposeAsync()
    {
        try { await StopAsync(); } catch (Exception) { /* best effort: never leave processes behind */ }
        foreach (var silo in Silos)
            try { Process.GetProcessById(silo.Pid).Kill(); } catch (ArgumentException) { } catch (InvalidOperationException) { }
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
