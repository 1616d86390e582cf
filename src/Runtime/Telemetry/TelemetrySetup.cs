using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace AlignCluster.Runtime.Telemetry;

/// <summary>
/// Starts the OpenTelemetry SDK for a process without Microsoft.Extensions.Hosting integration (the
/// OpenTelemetry.Extensions.Hosting package does not restore here): a TracerProvider for the AlignCluster.* activity
/// sources and a MeterProvider for the AlignCluster.* meters, each exporting over OTLP when an endpoint is configured,
/// and optionally capturing into memory for tests. Dispose flushes and shuts both down.
/// </summary>
/// <example>
/// <code>
/// using var telemetry = TelemetrySetup.Start(new TelemetryOptions { ServiceName = "silo-1", OtlpEndpoint = new("http://127.0.0.1:4317") });
/// </code>
/// </example>
public sealed class TelemetrySetup : IDisposable
{
    private readonly TracerProvider _tracerProvider;
    private readonly MeterProvider _meterProvider;

    private TelemetrySetup(TracerProvider tracerProvider, MeterProvider meterProvider, SpanCapture? spans, MetricCapture? metrics, TelemetryOptions options)
    {
        _tracerProvider = tracerProvider;
        _meterProvider = meterProvider;
        Spans = spans;
        Metrics = metrics;
        Options = options;
    }

    public TelemetryOptions Options { get; }

    /// <summary>Finished spans, when <see cref="TelemetryOptions.CaptureInMemory"/> is set.</summary>
    public SpanCapture? Spans { get; }

    /// <summary>Metric snapshots on demand, when <see cref="TelemetryOptions.CaptureInMemory"/> is set.</summary>
    public MetricCapture? Metrics { get; }

    /// <summary>Builds and starts both providers.</summary>
    public static TelemetrySetup Start(TelemetryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.TraceSamplingRatio is < 0 or > 1)
            throw new ArgumentOutOfRangeException(nameof(options), $"TraceSamplingRatio must be within 0..1, got {options.TraceSamplingRatio}");
        var resource = ResourceBuilder.CreateDefault().AddService(options.ServiceName, serviceInstanceId: options.ServiceInstanceId,
            autoGenerateServiceInstanceId: options.ServiceInstanceId is null);

        var traces = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(resource)
            .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(options.TraceSamplingRatio)))
            .AddSource([.. options.Sources]);
        var metrics = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter([.. options.Meters]);

        if (options.OtlpEndpoint is { } endpoint)
        {
            traces.AddOtlpExporter(otlp => Configure(otlp, options, endpoint, "v1/traces"));
            metrics.AddOtlpExporter((otlp, reader) =>
            {
                Configure(otlp, options, endpoint, "v1/metrics");
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)options.MetricExportInterval.TotalMilliseconds;
            });
        }

        SpanCapture? spans = null;
        MetricCapture? captured = null;
        if (options.CaptureInMemory)
        {
            traces.AddProcessor(spans = new SpanCapture());
            captured = new MetricCapture();
            metrics.AddReader(captured.Reader);
        }
        return new TelemetrySetup(traces.Build(), metrics.Build(), spans, captured, options);
    }

    /// <summary>Exports everything recorded so far (spans and metrics); false when an exporter did not finish in time.</summary>
    public bool ForceFlush(TimeSpan timeout)
    {
        var ms = (int)timeout.TotalMilliseconds;
        var tracesFlushed = _tracerProvider.ForceFlush(ms);
        return _meterProvider.ForceFlush(ms) && tracesFlushed;
    }

    public void Dispose()
    {
        _tracerProvider.Dispose();
        _meterProvider.Dispose();
    }

    /// <summary>The OTLP exporter takes a programmatic http/protobuf endpoint as the full signal URL, so the path is added here.</summary>
    private static void Configure(OtlpExporterOptions otlp, TelemetryOptions options, Uri endpoint, string signalPath)
    {
        otlp.Protocol = options.OtlpProtocol;
        otlp.Endpoint = options.OtlpProtocol == OtlpExportProtocol.HttpProtobuf
            ? new Uri(endpoint.AbsoluteUri.TrimEnd('/') + "/" + signalPath)
            : endpoint;
        otlp.TimeoutMilliseconds = (int)options.OtlpTimeout.TotalMilliseconds;
        if (options.OtlpHeaders is not null) otlp.Headers = options.OtlpHeaders;
    }
}
