// The AlignCluster silo: hosts the application grains (src/Grains) plus any configured grain assemblies.
// Configuration: silo.yaml (or --config PATH), ALIGNCLUSTER_* environment variables, --section:key=value arguments.
// Exit codes: 0 after a graceful stop, 2 for a configuration error, 3 when the cluster declared this silo dead.
using System.Reflection;
using AlignCluster.Runtime.Hosting;
using Microsoft.Extensions.Hosting;

try
{
    var builder = SiloHostBuilder.Create(args, runtime => runtime.AddAssembly(Assembly.Load("AlignCluster.Grains")));
    using var host = builder.Build();
    await host.RunAsync();
    return Environment.ExitCode;
}
catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException or FileNotFoundException)
{
    Console.Error.WriteLine($"silo: {e.Message}");
    return 2;
}
