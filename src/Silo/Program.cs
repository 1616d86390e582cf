// The AlignCluster silo: an Orleans silo hosting the application grains (src/Grains).
// Configuration (command line --Section:Key=value, or environment ALIGNCLUSTER_Section__Key):
//   Silo:Port (11111), Silo:GatewayPort (30000), Silo:Address (127.0.0.1: loopback unless configured otherwise),
//   Cluster:Id ("aligncluster"), Silo:Devices (e.g. "cuda:0,cuda:1"; default the GPUs libtorch sees, else
//   Silo:CpuDevices CPU devices, default 1),
// Storage:Mode local (default: development clustering, Silo:Primary = host:port of the silo that keeps the membership,
//     default this silo; grain state and checkpoints in Storage:Directory, default .aligncluster-silo) or azure (Azure
//     Storage / Azurite at Storage:ConnectionString: table membership and reminders, blob state and checkpoints; table
//     and container names start with Storage:Prefix, default aligncluster),
//   Tls:Certificate (the cluster certificate, PFX; Tls:Password if it has one): silos and clients must present it,
//   Coordinator:KeepAlivePeriod (hh:mm:ss, default 00:01:00: how often a run's reminder checks it is driven).
// `AlignCluster.Silo new-certificate FILE.pfx` writes a new self-signed cluster certificate and exits.
// Dashboard (off; a port, e.g. --dashboard 8080: the live view, run page at /run and Orleans dashboard at /dashboard/,
//   on Dashboard:Address, default 127.0.0.1).
// Prints "SILO READY <address> gateway=<host:port> pid=<pid>" once it serves.
// Exit codes: 0 after a graceful stop, 2 when the silo cannot start (the message says why).
using AlignCluster.Grains.Hosting;
using AlignCluster.Grains.LiveView;
using AlignCluster.Silo;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

if (args is ["new-certificate", ..])
    return SiloCluster.NewCertificate(args);
try
{
    var early = new ConfigurationBuilder().AddEnvironmentVariables("ALIGNCLUSTER_").AddCommandLine(args).Build();
    LiveViewOptions? liveView = early["Dashboard"] is { Length: > 0 } view
        ? new LiveViewOptions(int.Parse(view), early["Dashboard:Address"] ?? "127.0.0.1")
        : null;
    var builder = LiveViewHost.CreateBuilder(liveView, args);
    builder.Configuration.AddEnvironmentVariables("ALIGNCLUSTER_").AddCommandLine(args);
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    var config = builder.Configuration;
    string address = config["Silo:Address"] ?? "127.0.0.1",
        gatewayPort = config["Silo:GatewayPort"] ?? "30000";
    // GPUs libtorch sees become the silo's devices (one trainer grain each); without any, its CPU devices.
    IReadOnlyList<string> devices =
        config["Silo:Devices"] is { Length: > 0 } listed
            ? listed.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        : TorchDevices.Detect() is { Count: > 0 } gpus ? gpus
        : [.. Enumerable.Range(0, config.GetValue("Silo:CpuDevices", 1)).Select(i => $"cpu:{i}")];
    if (devices.All(d => d.StartsWith("cpu:", StringComparison.Ordinal)))
        TorchThreads.ShareAmong(devices.Count);
    builder.UseOrleans(silo =>
    {
        SiloCluster.Configure(silo, config, devices);
        silo.AddLiveView(liveView);
    });
    using var host = builder.BuildWithLiveView();
    await host.StartAsync();
    var local = host.Services.GetRequiredService<ILocalSiloDetails>();
    Console.WriteLine(
        $"SILO READY {local.SiloAddress} gateway={address}:{gatewayPort} pid={Environment.ProcessId} "
            + $"devices={string.Join(",", devices)}{(LiveViewHost.UrlOf(host) is { } url ? $" live-view={url}" : "")}"
    );
    await host.WaitForShutdownAsync();
    return 0;
}
catch (Exception e)
{
    Console.Error.WriteLine($"silo: cannot start: {e.Message}");
    return 2;
}
