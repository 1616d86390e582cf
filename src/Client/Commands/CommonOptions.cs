using System.CommandLine;
using AlignCluster.Client.Cluster;

namespace AlignCluster.Client.Commands;

/// <summary>Options shared by the cluster commands.</summary>
internal static class CommonOptions
{
    public static Option<string> State() =>
        new("--state")
        {
            Description = "State directory of the embedded cluster (grain state, checkpoints, run index).",
            DefaultValueFactory = _ => ".aligncluster",
        };

    public static Option<string[]> Cluster() =>
        new("--cluster")
        {
            Description =
                "Connect to running silos through this gateway (host:port; repeatable or comma-separated) instead "
                + "of the embedded cluster.",
            AllowMultipleArgumentsPerToken = false,
        };

    /// <summary>
    /// `--certificate FILE.pfx`: the cluster certificate a client presents with --cluster (default: the environment
    /// variable ALIGNCLUSTER_CERTIFICATE; password, if any, in ALIGNCLUSTER_CERTIFICATE_PASSWORD). One instance
    /// shared by the cluster commands; Program.cs hands its value to <see cref="RemoteCluster"/>.
    /// </summary>
    public static Option<string?> Certificate { get; } =
        new("--certificate")
        {
            Description =
                "With --cluster: the cluster certificate (PFX) to present (default: $ALIGNCLUSTER_CERTIFICATE).",
        };

    public static Option<string?> OtlpEndpoint() =>
        new("--otlp-endpoint")
        {
            Description =
                "Export traces and metrics over OTLP to this URL (default: OTEL_EXPORTER_OTLP_ENDPOINT; none = off).",
        };

    /// <summary>`--dashboard [PORT]`: the embedded silo serves the live view on 127.0.0.1 (default port 8080; 0 = any
    /// free port, the URL printed says which).</summary>
    public static Option<int?> Dashboard() =>
        new("--dashboard")
        {
            Description =
                "Serve the live view on 127.0.0.1:PORT (default 8080): the run page at /run, the Orleans "
                + "dashboard at /dashboard/.",
            Arity = ArgumentArity.ZeroOrOne,
        };

    /// <summary>The live view asked for with <see cref="Dashboard"/>, or null when the option is absent.</summary>
    public static Grains.LiveView.LiveViewOptions? LiveView(ParseResult parse, Option<int?> dashboard)
    {
        if (parse.GetResult(dashboard) is null)
            return null;
        int port = parse.GetValue(dashboard) ?? Grains.LiveView.LiveViewOptions.DefaultPort;
        if (port is < 0 or > 65535)
            throw new ClientException($"--dashboard {port}: not a TCP port (0-65535)");
        return new Grains.LiveView.LiveViewOptions(port);
    }

    public static Option<string> Run() => new("--run") { Description = "Run id.", Required = true };

    public static Option<int?> Round() => new("--round") { Description = "Checkpoint round (default: the newest)." };

    /// <summary>For commands not wired to running silos yet: say so instead of ignoring --cluster.</summary>
    public static void RejectCluster(string[]? endpoints)
    {
        if (endpoints is { Length: > 0 })
            throw new ClientException(
                $"--cluster {string.Join(",", endpoints)}: connecting to running silos is not available in this "
                    + "build yet; run without --cluster (embedded cluster)"
            );
    }
}
