using System.Globalization;
using OpenTelemetry.Exporter;

namespace AlignCluster.Runtime.Telemetry;

/// <summary>What <see cref="TelemetrySetup"/> collects and where it sends it.</summary>
public sealed record TelemetryOptions
{
    /// <summary>service.name of the resource.</summary>
    public string ServiceName { get; init; } = "aligncluster";

    /// <summary>service.instance.id of the resource (e.g. the silo name); a random id when null.</summary>
    public string? ServiceInstanceId { get; init; }

    /// <summary>ActivitySource names to record; '*' is a wildcard.</summary>
    public IReadOnlyList<string> Sources { get; init; } = ["AlignCluster.*"];

    /// <summary>Meter names to record; '*' is a wildcard.</summary>
    public IReadOnlyList<string> Meters { get; init; } = ["AlignCluster.*"];

    /// <summary>
    /// OTLP collector base URL (e.g. http://127.0.0.1:4317 for grpc, http://127.0.0.1:4318 for http/protobuf);
    /// null: no OTLP export. For http/protobuf the signal paths /v1/traces and /v1/metrics are appended.
    /// </summary>
    public Uri? OtlpEndpoint { get; init; }

    /// <summary>OTLP transport: <see cref="OtlpExportProtocol.Grpc"/> or <see cref="OtlpExportProtocol.HttpProtobuf"/>.</summary>
    public OtlpExportProtocol OtlpProtocol { get; init; } = OtlpExportProtocol.Grpc;

    /// <summary>Extra OTLP request headers, "k1=v1,k2=v2" (e.g. an API key of a hosted collector).</summary>
    public string? OtlpHeaders { get; init; }

    /// <summary>Time limit of one OTLP export.</summary>
    public TimeSpan OtlpTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often metrics are pushed to the OTLP endpoint.</summary>
    public TimeSpan MetricExportInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Fraction of new traces recorded (0..1); a span whose parent was sampled is always recorded.</summary>
    public double TraceSamplingRatio { get; init; } = 1.0;

    /// <summary>Also keep every finished span and every metric in memory (<see cref="TelemetrySetup.Spans"/>, <see cref="TelemetrySetup.Metrics"/>): tests.</summary>
    public bool CaptureInMemory { get; init; }

    /// <summary>
    /// Reads options from flat settings (an IConfiguration section works: <c>key =&gt; section[key]</c>), falling back to the
    /// standard OTEL_* environment variables. Keys: ServiceName, ServiceInstanceId, Otlp:Endpoint, Otlp:Protocol
    /// (grpc | http/protobuf), Otlp:Headers, Otlp:TimeoutMs, MetricExportIntervalMs, TraceSamplingRatio.
    /// Throws <see cref="FormatException"/> naming the key of a bad value.
    /// </summary>
    public static TelemetryOptions FromSettings(Func<string, string?> setting, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var defaults = new TelemetryOptions();
        string? Get(string key, string? env = null) => NonEmpty(setting(key)) ?? (env is null ? null : NonEmpty(environment(env)));

        var endpoint = Get("Otlp:Endpoint", "OTEL_EXPORTER_OTLP_ENDPOINT");
        Uri? otlp = null;
        if (endpoint is not null && (!Uri.TryCreate(endpoint, UriKind.Absolute, out otlp) || otlp.Scheme is not ("http" or "https")))
            throw new FormatException($"telemetry: Otlp:Endpoint '{endpoint}' is not an http(s) URL");

        return new TelemetryOptions
        {
            ServiceName = Get("ServiceName", "OTEL_SERVICE_NAME") ?? defaults.ServiceName,
            ServiceInstanceId = Get("ServiceInstanceId"),
            OtlpEndpoint = otlp,
            OtlpProtocol = ParseProtocol(Get("Otlp:Protocol", "OTEL_EXPORTER_OTLP_PROTOCOL")) ?? defaults.OtlpProtocol,
            OtlpHeaders = Get("Otlp:Headers", "OTEL_EXPORTER_OTLP_HEADERS"),
            OtlpTimeout = Milliseconds(Get("Otlp:TimeoutMs"), "Otlp:TimeoutMs") ?? defaults.OtlpTimeout,
            MetricExportInterval = Milliseconds(Get("MetricExportIntervalMs"), "MetricExportIntervalMs") ?? defaults.MetricExportInterval,
            TraceSamplingRatio = Ratio(Get("TraceSamplingRatio")) ?? defaults.TraceSamplingRatio,
        };
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static OtlpExportProtocol? ParseProtocol(string? value) => value?.ToLowerInvariant() switch
    {
        null => null,
        "grpc" => OtlpExportProtocol.Grpc,
        "http/protobuf" or "http" => OtlpExportProtocol.HttpProtobuf,
        _ => throw new FormatException($"telemetry: Otlp:Protocol '{value}' must be grpc or http/protobuf"),
    };

    private static TimeSpan? Milliseconds(string? value, string key) =>
        value is null ? null
        : int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms > 0 ? TimeSpan.FromMilliseconds(ms)
        : throw new FormatException($"telemetry: {key} '{value}' must be a positive whole number of milliseconds");

    private static double? Ratio(string? value) =>
        value is null ? null
        : double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var r) && r is >= 0 and <= 1 ? r
        : throw new FormatException($"telemetry: TraceSamplingRatio '{value}' must be a number between 0 and 1");
}
