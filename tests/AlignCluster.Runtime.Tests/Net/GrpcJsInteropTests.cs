using System.Diagnostics;
using System.Text.Json;
using AlignCluster.Runtime.Transport;

namespace AlignCluster.Runtime.Tests.Net;

/// <summary>
/// A stock gRPC client (@grpc/grpc-js with @grpc/proto-loader, from npm) calls a silo: shows our hand-written framing,
/// content type and trailers are the real gRPC wire format, for the unary and the bidirectional method.
/// </summary>
public sealed class GrpcJsInteropTests
{
    private const string Secret = "grpc-js-interop-key-0123456789";

    // The client script: unary Invoke with bytes 0..255, a duplex Connect with two requests, and a call without the key.
    private const string Script = """
        const path = require('path');
        const modules = process.argv[2], protoFile = process.argv[3], target = process.argv[4], auth = process.argv[5];
        const grpc = require(path.join(modules, '@grpc/grpc-js'));
        const loader = require(path.join(modules, '@grpc/proto-loader'));
        const def = loader.loadSync(protoFile, { longs: String, enums: String, defaults: true });
        const Svc = grpc.loadPackageDefinition(def).aligncluster.transport.SiloTransport;
        const client = new Svc(target, grpc.credentials.createInsecure());
        const md = new grpc.Metadata(); md.set('authorization', auth);
        const out = {};
        const payload = Buffer.from([...Array(256).keys()]);
        client.Invoke({ correlationId: '7', kind: 'REQUEST', targetGrain: 'echo/js', methodName: 'Echo', payload }, md, (err, res) => {
          if (err) { out.unaryError = err.code + ' ' + err.details; } else {
            out.unary = { correlationId: res.correlationId, kind: res.kind, echoTarget: res.headers['echo-target'], payloadHex: res.payload.toString('hex') };
          }
          const call = client.Connect(md);
          const got = [];
          call.on('data', r => got.push({ correlationId: r.correlationId, payloadHex: r.payload.toString('hex') }));
          call.on('error', e => { out.streamError = e.code + ' ' + e.details; });
          call.on('status', s => {
            out.stream = got; out.streamStatus = s.code;
            client.Invoke({ kind: 'REQUEST', methodName: 'Echo' }, new grpc.Metadata(), (e2) => {
              out.noKeyCode = e2 ? e2.code : 0;
              console.log(JSON.stringify(out)); client.close();
            });
          });
          call.write({ correlationId: '1', kind: 'REQUEST', methodName: 'Echo', payload: Buffer.from([1, 2, 3]) });
          call.write({ correlationId: '2', kind: 'REQUEST', methodName: 'Echo', payload: Buffer.from([250, 0, 9]) });
          call.end();
        });
        """;

    [Fact]
    public async Task A_real_grpc_js_client_calls_a_silo_unary_and_streaming()
    {
        var modules = RepoPaths.NodeModules("@grpc/grpc-js");
        RepoPaths.NodeModules("@grpc/proto-loader");
        var key = new ClusterKey(Secret);
        var handler = new EchoHandler();
        await using var server = new TransportServer(new TransportServerOptions { ClusterKey = key }, handler);
        await server.StartAsync();

        var dir = Directory.CreateTempSubdirectory("aligncluster-grpcjs-");
        try
        {
            var script = Path.Combine(dir.FullName, "client.js");
            await File.WriteAllTextAsync(script, Script);
            var psi = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { script, modules, RepoPaths.TransportProto, $"127.0.0.1:{server.Port}", key.AuthorizationHeader })
                psi.ArgumentList.Add(a);
            using var node = Process.Start(psi)!;
            var stdout = node.StandardOutput.ReadToEndAsync();
            var stderr = node.StandardError.ReadToEndAsync();
            await node.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(node.ExitCode == 0, $"node exited {node.ExitCode}: {await stderr}");

            using var result = JsonDocument.Parse(await stdout);
            var root = result.RootElement;
            Assert.False(root.TryGetProperty("unaryError", out var ue), $"unary failed: {ue}");
            var unary = root.GetProperty("unary");
            // Expected bytes: 255, 254, ..., 0 (the echo handler reverses 0..255), as hex.
            var expectedHex = Convert.ToHexStringLower(Enumerable.Range(0, 256).Reverse().Select(i => (byte)i).ToArray());
            Assert.Equal(expectedHex, unary.GetProperty("payloadHex").GetString());
            Assert.Equal("7", unary.GetProperty("correlationId").GetString());
            Assert.Equal("RESPONSE", unary.GetProperty("kind").GetString());
            Assert.Equal("echo/js", unary.GetProperty("echoTarget").GetString());

            Assert.False(root.TryGetProperty("streamError", out var se), $"stream failed: {se}");
            Assert.Equal(0, root.GetProperty("streamStatus").GetInt32());
            var stream = root.GetProperty("stream").EnumerateArray()
                .ToDictionary(e => e.GetProperty("correlationId").GetString()!, e => e.GetProperty("payloadHex").GetString());
            Assert.Equal("030201", stream["1"]);
            Assert.Equal("0900fa", stream["2"]);

            Assert.Equal(GrpcStatus.Unauthenticated, root.GetProperty("noKeyCode").GetInt32());
        }
        finally { dir.Delete(recursive: true); }
    }
}
