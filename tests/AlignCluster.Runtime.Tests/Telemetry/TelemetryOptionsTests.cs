using AlignCluster.Runtime.Telemetry;
using OpenTelemetry.Exporter;

namespace AlignCluster.Runtime.Tests.Telemetry;

public sealed class TelemetryOptionsTests
{
    private static Func<string, string?> Settings(params (string Key, string Value)[] pairs) =>
        key => pairs.FirstOrDefault(p => p.Key == key).Value;

    private static readonly Func<string, string?> NoEnvironment = _ => null;

    [Fact]
    public void Settings_are_read_by_key()
    {
        var options = TelemetryOptions.FromSettings(Settings(
            ("ServiceName", "silo-a"), ("Otlp:Endpoint", "http://collector:4318"), ("Otlp:Protocol", "http/protobuf"),
            ("Otlp:Headers", "api-key=x"), ("Otlp:TimeoutMs", "2500"), ("MetricExportIntervalMs", "1000"), ("TraceSamplingRatio", "0.25")), NoEnvironment);
        Assert.Equal("silo-a", options.ServiceName);
        Assert.Equal(new Uri("http://collector:4318"), options.OtlpEndpoint);
        Assert.Equal(OtlpExportProtocol.HttpProtobuf, options.OtlpProtocol);
        Assert.Equal("api-key=x", options.OtlpHeaders);
        Assert.Equal(TimeSpan.FromMilliseconds(2500), options.OtlpTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), options.MetricExportInterval);
        Assert.Equal(0.25, options.TraceSamplingRatio);
    }

    [Fact]
    public void Standard_otel_environment_variables_fill_the_gaps_and_no_endpoint_means_no_export()
    {
        var env = Settings(("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317"), ("OTEL_SERVICE_NAME", "from-env"));
        var options = TelemetryOptions.FromSettings(Settings(("ServiceName", "from-settings")), env);
        Assert.Equal("from-settings", options.ServiceName); // settings win
        Assert.Equal(new Uri("http://127.0.0.1:4317"), options.OtlpEndpoint);
        Assert.Equal(OtlpExportProtocol.Grpc, options.OtlpProtocol);
        Assert.Null(TelemetryOptions.FromSettings(Settings(), NoEnvironment).OtlpEndpoint);
    }

    [Theory]
    [InlineData("Otlp:Endpoint", "not a url", "Otlp:Endpoint 'not a url'")]
    [InlineData("Otlp:Protocol", "udp", "Otlp:Protocol 'udp'")]
    [InlineData("Otlp:TimeoutMs", "-5", "Otlp:TimeoutMs '-5'")]
    [InlineData("TraceSamplingRatio", "1.5", "TraceSamplingRatio '1.5'")]
    public void Bad_values_name_their_key(string key, string value, string expected)
    {
        var ex = Assert.Throws<FormatException>(() => TelemetryOptions.FromSettings(Settings((key, value)), NoEnvironment));
        Assert.Contains(expected, ex.Message);
    }
}
