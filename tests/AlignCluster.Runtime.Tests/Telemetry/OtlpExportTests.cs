using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using AlignCluster.Runtime.Telemetry;
using AlignCluster.Runtime.Tests.Storage;
using OpenTelemetry.Exporter;

namespace AlignCluster.Runtime.Tests.Telemetry;

/// <summary>Proves the OTLP wiring: the exporter, pointed at a loopback sink, really sends there.</summary>
public sealed class OtlpExportTests
{
    private readonly string _name = "AlignCluster.Tests.Otlp" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>
    /// http/protobuf: the spans and metrics arrive as POSTs of application/x-protobuf to /v1/traces and /v1/metrics.
    /// Protobuf writes strings as raw UTF-8, so the span, metric and service names must appear in the bodies.
    /// </summary>
    [Fact]
    public async Task Http_protobuf_export_posts_spans_and_metrics_to_the_endpoint()
    {
        var port = Loopback.FreePort();
        using var sink = new HttpListener();
        sink.Prefixes.Add($"http://127.0.0.1:{port}/");
        sink.Start();
        var received = new List<(string Method, string Path, string? ContentType, byte[] Body)>();
        var serving = Task.Run(async () =>
        {
            while (sink.IsListening)
            {
                HttpListenerContext context;
                try { context = await sink.GetContextAsync(); } catch (Exception) { return; }
                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                lock (received) received.Add((context.Request.HttpMethod, context.Request.Url!.AbsolutePath, context.Request.ContentType, body.ToArray()));
                context.Response.StatusCode = 200;
                context.Response.Close();
            }
        });

        var options = new TelemetryOptions
        {
            ServiceName = "otlp-test-service", Sources = [_name], Meters = [_name],
            OtlpEndpoint = new Uri($"http://127.0.0.1:{port}"), OtlpProtocol = OtlpExportProtocol.HttpProtobuf,
        };
        using (var telemetry = TelemetrySetup.Start(options))
        {
            using var source = new ActivitySource(_name);
            using var meter = new Meter(_name);
            using (source.StartActivity("exported-span")) { }
            meter.CreateCounter<long>("exported.counter").Add(1);
            Assert.True(telemetry.ForceFlush(TimeSpan.FromSeconds(10)));
        }
        sink.Stop();
        await serving;

        lock (received)
        {
            var traces = Assert.Single(received, r => r.Path == "/v1/traces" && Contains(r.Body, "exported-span"));
            Assert.Equal("POST", traces.Method);
            Assert.Equal("application/x-protobuf", traces.ContentType);
            Assert.True(Contains(traces.Body, "otlp-test-service"));
            Assert.Contains(received, r => r.Path == "/v1/metrics" && Contains(r.Body, "exported.counter"));
        }
    }

    /// <summary>grpc: the exporter opens HTTP/2 in cleartext to the endpoint, which begins with the connection preface (RFC 9113 §3.4).</summary>
    [Fact]
    public async Task Grpc_export_opens_an_http2_connection_to_the_endpoint()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var options = new TelemetryOptions
        {
            Sources = [_name], Meters = [_name], OtlpEndpoint = new Uri($"http://127.0.0.1:{port}"),
            OtlpProtocol = OtlpExportProtocol.Grpc, OtlpTimeout = TimeSpan.FromSeconds(2),
        };
        var telemetry = TelemetrySetup.Start(options);
        try
        {
            using var source = new ActivitySource(_name);
            using (source.StartActivity("grpc-span")) { }
            var flushing = Task.Run(() => telemetry.ForceFlush(TimeSpan.FromSeconds(5)));
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            using var connection = await listener.AcceptTcpClientAsync(timeout.Token);
            var preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();
            var buffer = new byte[preface.Length];
            await connection.GetStream().ReadExactlyAsync(buffer, timeout.Token);
            Assert.Equal(preface, buffer);
            connection.Close(); // the export fails now; that is fine, the wiring is proven
            listener.Stop();
            await flushing;
        }
        finally
        {
            listener.Stop();
            telemetry.Dispose();
        }
    }

    private static bool Contains(byte[] haystack, string needle) => haystack.AsSpan().IndexOf(Encoding.UTF8.GetBytes(needle)) >= 0;
}
