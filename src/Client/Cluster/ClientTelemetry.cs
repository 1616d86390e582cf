using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace AlignCluster.Client.Cluster;

/// <summary>
/// OpenTelemetry for a client process (the embedded silo included): spans of our sources (run → round → phases) and of
/// Orleans' grain calls, and metrics (TRL-named training metrics, Orleans' meters), exported over OTLP when an endpoint
/// is given with --otlp-endpoint or OTEL_EXPORTER_OTLP_ENDPOINT; nothing is started otherwise.
/// </summary>
public static class ClientTelemetry
{
    /// <summary>The activity sources and meters exported: ours and Orleans'.</summary>
    public static readonly string[] Sources = ["AlignCluster.*", "Microsoft.Orleans.*"];

    /// <summary>The command's own span (e.g. "train"), the root of the trace its grain calls continue.</summary>
    public static readonly ActivitySource Source = new("AlignCluster.Client", "1.0");

    /// <summary>Starts the span of one command for <paramref name="runId"/> (null when nobody listens).</summary>
    public static Activity? StartCommand(string command, string runId) =>
        Source.StartActivity(command, ActivityKind.Client)?.SetTag("run.id", runId);

    public static IDisposable? Start(string? endpoint, string serviceName)
    {
        endpoint ??= Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT");
        if (string.IsNullOrWhiteSpace(endpoint))
            return null;
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new ClientException(
                $"--otlp-endpoint '{endpoint}': expected an http(s) URL such as http://127.0.0.1:4317"
            );
        var resource = ResourceBuilder.CreateDefault().AddService(serviceName);
        var traces = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(resource)
            .AddSource(Sources)
            .AddOtlpExporter(o => o.Endpoint = uri)
            .Build();
        var metrics = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter(Sources)
            .AddOtlpExporter(o => o.Endpoint = uri)
            .Build();
        return new Both(traces, metrics);
    }

    private sealed class Both(IDisposable a, IDisposable b) : IDisposable
    {
        public void Dispose()
        {
            a.Dispose();
            b.Dispose();
        }
    }
}
