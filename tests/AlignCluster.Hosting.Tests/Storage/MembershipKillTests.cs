using System.Diagnostics;
using AlignCluster.Hosting.Storage;
using AlignCluster.Hosting.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace AlignCluster.Hosting.Tests.Storage;

/// <summary>
/// kill -9 of a silo process on the Azure storage mode (Azurite tables), with the membership timing of
/// <see cref="ClusterStorageOptions"/>: the survivors declare it dead. The test prints how long that took (the
/// number operations.md states); it asserts only that it happens.
/// </summary>
public sealed class MembershipKillTests(Azurite azurite, ITestOutputHelper output) : IClassFixture<Azurite>
{
    [Fact]
    public async Task A_silo_process_killed_with_sigkill_is_declared_dead()
    {
        string prefix = "k" + Guid.NewGuid().ToString("N")[..8];
        ClusterStorageOptions Options(int silo = 0, int gateway = 0) =>
            new()
            {
                Mode = StorageMode.Azure,
                AzureConnectionString = azurite.ConnectionString,
                AzurePrefix = prefix,
                ClusterId = prefix,
                ServiceId = prefix,
                SiloPort = silo,
                GatewayPort = gateway,
            };
        await using LoopbackCluster survivors = await LoopbackCluster.StartAsync(
            1,
            (_, ports, silo) => silo.UseAlignClusterStorage(Options(ports.Silo, ports.Gateway)),
            client => client.UseAlignClusterStorage(Options())
        );

        string dll = Path.Combine(
            RepoRoot.Path,
            "tests",
            "AlignCluster.Hosting.TestSilo",
            "bin",
            Path.GetFileName(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd('/')))!, // Release or Debug
            "net10.0",
            "AlignCluster.Hosting.TestSilo.dll"
        );
        Assert.True(File.Exists(dll), $"{dll} is not built");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                dll,
                azurite.ConnectionString,
                prefix,
                LoopbackCluster.FreePort().ToString(),
                LoopbackCluster.FreePort().ToString(),
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process victim = Process.Start(start)!;
        try
        {
            var management = survivors.Client.GetGrain<IManagementGrain>(0);
            SiloAddress victimAddress = await WaitForAsync(
                async () =>
                {
                    Dictionary<SiloAddress, SiloStatus> hosts = await management.GetHosts(onlyActive: true);
                    return hosts.Count == 2 ? hosts.Keys.Single(h => h.Endpoint.Port != Silo0Port(survivors)) : null;
                },
                "the silo process never joined"
            );

            var clock = Stopwatch.StartNew();
            victim.Kill(); // SIGKILL: no goodbye to the membership table
            await victim.WaitForExitAsync();
            await WaitForAsync(
                async () =>
                {
                    Dictionary<SiloAddress, SiloStatus> hosts = await management.GetHosts(onlyActive: false);
                    return hosts.TryGetValue(victimAddress, out SiloStatus s) && s == SiloStatus.Dead ? "dead" : null;
                },
                "the killed silo was never declared dead"
            );
            output.WriteLine(
                $"kill -9 → declared dead in {clock.Elapsed.TotalSeconds:0.00} s (ProbeTimeout "
                    + $"{Options().ProbeTimeout.TotalSeconds} s, NumMissedProbesLimit {Options().NumMissedProbesLimit}, "
                    + $"load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}, {Environment.ProcessorCount} cores)"
            );
        }
        finally
        {
            if (!victim.HasExited)
                victim.Kill();
        }
    }

    private static int Silo0Port(LoopbackCluster cluster) =>
        cluster.Silos[0].Services.GetRequiredService<ILocalSiloDetails>().SiloAddress.Endpoint.Port;

    /// <summary>Polls every 50 ms; 120 s bounds a stuck cluster on a loaded machine (not a timing assertion).</summary>
    private static async Task<T> WaitForAsync<T>(Func<Task<T?>> probe, string failure)
        where T : class
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(120))
        {
            if (await probe() is { } value)
                return value;
            await Task.Delay(50);
        }
        throw new TimeoutException(failure);
    }
}
