using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace AlignCluster.Hosting.Telemetry;

/// <summary>Where traces and metrics go.</summary>
public sealed class TelemetryOptions
{
    /// <summary>The service.name resource attribute ("aligncluster-silo", "aligncluster-cli", ...).</summary>
    public string ServiceName { get; set; } = "aligncluster";

    /// <summary>service.instance.id (e.g. the silo name); a random id when null.</summary>
    public string? ServiceInstanceId { get; set; }

    /// <summary>OTLP collector endpoint ("http://127.0.0.1:4317" for gRPC); no OTLP export when null.</summary>
    public Uri? OtlpEndpoint { get; set; }

    /// <summary>OTLP over gRPC (port 4317, the default) or HTTP/protobuf (port 4318).</summary>
    public OtlpExportProtocol OtlpProtocol { get; set; } = OtlpExportProtocol.Grpc;

    /// <summary>Also print spans and metrics on the console (debugging).</summary>
    public bool Console { get; set; }

    /// <summary>Tests: finished spans are added here.</summary>
    public ICollection<Activity>? InMemorySpans { get; set; }

    /// <summary>Tests: exported metrics are added here.</summary>
    public ICollection<Metric>? InMemoryMetrics { get; set; }

    /// <summary>Also record Orleans' runtime spans (activation, storage, directory): verbose, for debugging.</summary>
    public bool OrleansRuntimeSpans { get; set; }
}

/// <summary>
/// OpenTelemetry for silos and clients: Orleans' grain-call spans and meters plus every ActivitySource and Meter
/// whose name starts with "AlignCluster". Orleans emits grain-call spans only where the silo or client builder
/// calls <c>AddActivityPropagation()</c>, which also carries the trace context across calls.
/// </summary>
public static class AlignClusterTelemetry
{
    /// <summary>Orleans' span source for grain calls (client and server side).</summary>
    public const string OrleansApplicationSource = "Microsoft.Orleans.Application";

    /// <summary>Orleans' runtime span source (with <see cref="TelemetryOptions.OrleansRuntimeSpans"/>).</summary>
    public const string OrleansRuntimeSource = "Microsoft.Orleans.Runtime";

    /// <summary>Orleans' meter (messaging, activations, membership, storage...).</summary>
    public const string OrleansMeter = "Microsoft.Orleans";

    /// <summary>Our sources and meters: "AlignCluster", "AlignCluster.Trainer", ...</summary>
    public const string OurPrefix = "AlignCluster";

    public static IServiceCollection AddAlignClusterTelemetry(
        this IServiceCollection services,
        TelemetryOptions options
    )
    {
        ArgumentNullException.ThrowIfNull(options);
        services
            .AddOpenTelemetry()
            .ConfigureResource(resource =>
                resource.AddService(
                    options.ServiceName,
                    serviceInstanceId: options.ServiceInstanceId,
                    autoGenerateServiceInstanceId: true
                )
            )
            .WithTracing(tracing =>
            {
                tracing.AddSource(OrleansApplicationSource, OurPrefix, OurPrefix + ".*");
                if (options.OrleansRuntimeSpans)
                    tracing.AddSource(OrleansRuntimeSource);
                if (options.OtlpEndpoint is { } endpoint)
                    tracing.AddOtlpExporter(o => Otlp(o, endpoint, options));
                if (options.Console)
                    tracing.AddConsoleExporter();
                if (options.InMemorySpans is { } spans)
                    tracing.AddInMemoryExporter(spans);
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(OrleansMeter, OurPrefix, OurPrefix + ".*");
                if (options.OtlpEndpoint is { } endpoint)
                    metrics.AddOtlpExporter(o => Otlp(o, endpoint, options));
                if (options.Console)
                    metrics.AddConsoleExporter();
                if (options.InMemoryMetrics is { } collected)
                    metrics.AddInMemoryExporter(collected);
            });
        return services;
    }

    private static void Otlp(OtlpExporterOptions otlp, Uri endpoint, TelemetryOptions options)
    {
        otlp.Endpoint = endpoint;
        otlp.Protocol = options.OtlpProtocol;
    }
}
