// The AlignCluster silo: an Orleans silo hosting the application grains (src/Grains).
// Configuration (command line --Section:Key=value, or environment ALIGNCLUSTER_Section__Key):
//   Silo:Port (11111), Silo:GatewayPort (30000), Silo:Address (127.0.0.1: loopback unless configured otherwise),
//   Silo:Primary (host:port of the silo that keeps the membership; default this silo), Cluster:Id ("aligncluster"),
//   Storage:Directory (grain state and checkpoints; default .aligncluster-silo), Silo:Devices (e.g. "cuda:0,cuda:1";
//   default the GPUs libtorch sees, else Silo:CpuDevices CPU devices, default 1).
//   Dashboard (off; a port, e.g. --dashboard 8080: the live view, run page at /run and Orleans dashboard at /dashboard/,
//   on Dashboard:Address, default 127.0.0.1).
// Prints "SILO READY <address> gateway=<host:port> pid=<pid>" once it serves.
// Exit codes: 0 after a graceful stop, 2 when the silo cannot start (the message says why).
using System.Net;
using AlignCluster.Grains.Hosting;
using AlignCluster.Grains.LiveView;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

try
{
    var early = new ConfigurationBuilder().AddEnvironmentVariables("ALIGNCLUSTER_").AddCommandLine(args).Build();
    LiveViewOptions? liveView = early["Dashboard"] is { Length: > 0 } view
        ? new LiveViewOptions(int.Parse(view), early["Dashboard:Address"] ?? "127.0.0.1") : null;
    var builder = LiveViewHost.CreateBuilder(liveView, args);
    builder.Configuration.AddEnvironmentVariables("ALIGNCLUSTER_").AddCommandLine(args);
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    var config = builder.Configuration;
    var address = IPAddress.Parse(config["Silo:Address"] ?? "127.0.0.1");
    int port = config.GetValue("Silo:Port", 11111), gatewayPort = config.GetValue("Silo:GatewayPort", 30000);
    var primary = config["Silo:Primary"] is { Length: > 0 } p ? IPEndPoint.Parse(p) : new IPEndPoint(address, port);
    string directory = config["Storage:Directory"] ?? ".aligncluster-silo";
    // GPUs libtorch sees become the silo's devices (one trainer grain each); without any, its CPU devices.
    IReadOnlyList<string> devices = config["Silo:Devices"] is { Length: > 0 } listed
        ? listed.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        : TorchDevices.Detect() is { Count: > 0 } gpus ? gpus
        : [.. Enumerable.Range(0, config.GetValue("Silo:CpuDevices", 1)).Select(i => $"cpu:{i}")];
    if (devices.All(d => d.StartsWith("cpu:", StringComparison.Ordinal))) TorchThreads.ShareAmong(devices.Count);
    builder.UseOrleans(silo =>
    {
        silo.UseDevelopmentClustering(primary);
        silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (config["Cluster:Id"] ?? "aligncluster", "aligncluster"));
        silo.ConfigureEndpoints(address, port, gatewayPort, listenOnAnyHostAddress: false);
        silo.AddAlignCluster(directory, devices);
        silo.AddLiveView(liveView);
    });
    using var host = builder.BuildWithLiveView();
    await host.StartAsync();
    var local = host.Services.GetRequiredService<ILocalSiloDetails>();
    Console.WriteLine($"SILO READY {local.SiloAddress} gateway={address}:{gatewayPort} pid={Environment.ProcessId} " +
        $"devices={string.Join(",", devices)}{(LiveViewHost.UrlOf(host) is { } url ? $" live-view={url}" : "")}");
    await host.WaitForShutdownAsync();
    return 0;
}
catch (Exception e)
{
    Console.Error.WriteLine($"silo: cannot start: {e.Message}");
    return 2;
}
