using AlignCluster.Runtime.Messaging;
using AlignCluster.Runtime.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AlignCluster.Runtime.Hosting;

/// <summary>
/// Builds a silo host on Microsoft.Extensions.Hosting. Configuration, later sources winning: the YAML file
/// (--config PATH, else ALIGNCLUSTER_CONFIG, else ./silo.yaml if present), ALIGNCLUSTER_* environment variables,
/// then command-line arguments (--network:port=11112).
/// </summary>
public static class SiloHostBuilder
{
    /// <param name="args">Process arguments.</param>
    /// <param name="createRuntimeOptions">Builds the runtime options (grain classes, message types, services) from the
    /// silo's default store, which is created from configuration at start; null = empty options.</param>
    /// <param name="deviceDetector">Detects accelerators (e.g. CUDA through the torch binding); null = CPU devices.</param>
    public static HostApplicationBuilder Create(string[] args, Func<IStateStore, RuntimeOptions>? createRuntimeOptions = null,
        Func<IReadOnlyList<DeviceInfo>>? deviceDetector = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { Args = args });
        var (yamlPath, optional) = FindConfigFile(args);
        builder.Configuration.AddYamlFile(yamlPath, optional).AddEnvironmentVariables("ALIGNCLUSTER_").AddCommandLine(args);

        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        // A silo that cannot start (no cluster key, a bad setting) is reported once, in one line, by the executable;
        // the host's own "Hosting failed to start" entry would print the same error again as a stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));   // e.g. --Logging:LogLevel:Default=Warning

        var config = builder.Configuration.Get<SiloConfig>() ?? new SiloConfig();
        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton(sp => new SiloHostedService(config, createRuntimeOptions ?? (_ => new RuntimeOptions()),
            sp.GetRequiredService<IHostApplicationLifetime>(), sp.GetRequiredService<ILogger<SiloHostedService>>(), deviceDetector));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SiloHostedService>());
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(60));
        return builder;
    }

    private static (string Path, bool Optional) FindConfigFile(string[] args)
    {
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--config" && i + 1 < args.Length) return (args[i + 1], false);
            if (args[i].StartsWith("--config=", StringComparison.Ordinal)) return (args[i]["--config=".Length..], false);
        }
        return Environment.GetEnvironmentVariable("ALIGNCLUSTER_CONFIG") is { Length: > 0 } env ? (env, false) : ("silo.yaml", true);
    }
}
