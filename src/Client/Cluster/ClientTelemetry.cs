using AlignCluster.Runtime.Telemetry;

namespace AlignCluster.Client.Cluster;

/// <summary>
/// OpenTelemetry for a client process (the embedded silo included): spans of the AlignCluster.* sources (run → round →
/// phases, grain calls) and metrics (TRL-named training metrics, runtime metrics) exported over OTLP when an endpoint is
/// given with --otlp-endpoint or OTEL_EXPORTER_OTLP_ENDPOINT; nothing is started otherwise.
/// </summary>
public static class ClientTelemetry
{
    public static IDisposable? Start(string? endpoint, string serviceName)
    {
        TelemetryOptions options;
        try
        {
            options = TelemetryOptions.FromSettings(key => key switch
            {
                "Otlp:Endpoint" => endpoint,
                "ServiceName" => serviceName,
                _ => null,
            });
        }
        catch (FormatException e)
        {
            throw new ClientException(e.Message);
        }
        return options.OtlpEndpoint is null ? null : TelemetrySetup.Start(options);
    }
}
