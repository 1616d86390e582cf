using AlignCluster.Hosting.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// Usage: AlignCluster.Hosting.TestSilo <azure connection string> <prefix> <silo port> <gateway port>
// Joins the cluster named by the prefix (ClusterId = ServiceId = prefix), prints "ready" once started, runs until
// killed.
if (args.Length != 4)
{
    Console.Error.WriteLine("usage: AlignCluster.Hosting.TestSilo <connection> <prefix> <silo port> <gateway port>");
    return 2;
}
var options = new ClusterStorageOptions
{
    Mode = StorageMode.Azure,
    AzureConnectionString = args[0],
    AzurePrefix = args[1],
    ClusterId = args[1],
    ServiceId = args[1],
    SiloPort = int.Parse(args[2]),
    GatewayPort = int.Parse(args[3]),
};
using IHost host = Host.CreateDefaultBuilder()
    .ConfigureLogging(l => l.ClearProviders())
    .UseOrleans(silo => silo.UseAlignClusterStorage(options))
    .Build();
await host.StartAsync();
Console.WriteLine("ready");
await host.WaitForShutdownAsync();
return 0;
