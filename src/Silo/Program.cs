// The AlignCluster silo: hosts the application grains (src/Grains) plus any configured grain assemblies.
// Configuration: silo.yaml (or --config PATH), ALIGNCLUSTER_* environment variables, --section:key=value arguments.
// Exit codes: 0 after a graceful stop, 2 when the silo cannot start (the message says why),
// 3 when the cluster declared this silo dead.
using AlignCluster.Grains.Hosting;
using AlignCluster.Runtime.Hosting;
using Microsoft.Extensions.Hosting;

try
{
    // GPUs libtorch sees become the silo's devices (one trainer grain each); without any, its CPU devices.
    var builder = SiloHostBuilder.Create(args, store => ClusterSetup.SiloOptions(store), TorchDevices.Detect);
    using var host = builder.Build();
    await host.RunAsync();
    return Environment.ExitCode;
}
catch (Exception e)
{
    Console.Error.WriteLine($"silo: cannot start: {e.Message}");
    return 2;
}
