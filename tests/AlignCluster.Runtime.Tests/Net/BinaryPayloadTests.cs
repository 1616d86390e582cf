using AlignCluster.Runtime.Hosting;
using AlignCluster.Runtime.Membership;
using AlignCluster.Runtime.Messaging;
using AlignCluster.Runtime.Serialization;
using AlignCluster.Runtime.Tests.Core;
using AlignCluster.Runtime.Transport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AlignCluster.Runtime.Tests.Net;

/// <summary>A message the way trainer grains send tensors: raw bytes and floats inside an ordinary message type.</summary>
[GenerateSerializer]
public sealed class TensorMessage
{
    public string Name { get; set; } = "";
    public long[] Shape { get; set; } = [];
    public byte[] Raw { get; set; } = [];
    public float[] Values { get; set; } = [];
    public ReadOnlyMemory<byte> Extra { get; set; }
}

public interface ITensorEchoGrain : IGrainWithStringKey
{
    /// <summary>Returns the message unchanged (both directions cross the wire).</summary>
    Task<TensorMessage> Echo(TensorMessage message);
}

public sealed class TensorEchoGrain : Grain, ITensorEchoGrain
{
    public Task<TensorMessage> Echo(TensorMessage message) => Task.FromResult(message);
}

public sealed class BinaryPayloadTests
{
    private const int OneMiB = 1 << 20;

    /// <summary>
    /// 1 MiB of bytes and 1 MiB of floats. The floats include values JSON cannot carry at all (NaN with a payload,
    /// ±infinity) or carries lossily only with care (-0, subnormals), so bit-exactness is a real check.
    /// </summary>
    private static TensorMessage Sample()
    {
        var random = new Random(1234);
        var raw = new byte[OneMiB];
        random.NextBytes(raw);
        var values = new float[OneMiB / sizeof(float)];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1) * MathF.Pow(10, random.Next(-30, 30));
        values[0] = BitConverter.Int32BitsToSingle(0x7FC0_1234);   // NaN with a payload
        values[1] = -0.0f;
        values[2] = float.Epsilon;                                  // smallest subnormal
        values[3] = float.NegativeInfinity;
        var extra = new byte[1000];
        random.NextBytes(extra);
        return new TensorMessage { Name = "w", Shape = [512, 512], Raw = raw, Values = values, Extra = extra };
    }

    private static void AssertBitExact(TensorMessage expected, TensorMessage actual)
    {
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.Shape, actual.Shape);
        Assert.True(expected.Raw.AsSpan().SequenceEqual(actual.Raw), "byte[] payload differs");
        var expectedBits = System.Runtime.InteropServices.MemoryMarshal.AsBytes(expected.Values.AsSpan());
        var actualBits = System.Runtime.InteropServices.MemoryMarshal.AsBytes(actual.Values.AsSpan());
        Assert.True(expectedBits.SequenceEqual(actualBits), "float[] payload differs bitwise");
        Assert.True(expected.Extra.Span.SequenceEqual(actual.Extra.Span), "ReadOnlyMemory<byte> payload differs");
    }

    private static WireSerializer Serializer() =>
        new(new TypeAllowlist([typeof(TensorMessage)]), new NoGrainReferences());

    [Fact]
    public void Arrays_inside_a_message_are_encoded_as_raw_bytes_not_base64_or_text()
    {
        var message = Sample();
        var serializer = Serializer();
        var encoded = serializer.Serialize(message, typeof(TensorMessage));
        long payload = message.Raw.Length + message.Values.Length * sizeof(float) + message.Extra.Length;
        // Base64 would make the byte[] alone 4/3 × 1 MiB, and floats as decimal text take ~13 bytes each; the only
        // overhead allowed here is the JSON skeleton and the container header (well under 1 KiB).
        Assert.InRange(encoded.Length, payload, payload + 1024);
        AssertBitExact(message, (TensorMessage)serializer.Deserialize(encoded, typeof(TensorMessage), "test")!);

        // The gRPC frame of a call carrying it is the same size plus the envelope's few fields.
        var request = new InvocationRequest
        {
            CorrelationId = 1, Target = new GrainId(typeof(ITensorEchoGrain).FullName!, "t"), Interface = typeof(ITensorEchoGrain).FullName!,
            Method = nameof(ITensorEchoGrain.Echo), Arguments = [encoded],
        };
        int frame = 5 + InvocationCodec.ToEnvelope(request, SiloAddress.New("127.0.0.1", 1)).CalculateSize();
        Assert.InRange(frame, payload, payload + 2048);
    }

    [Fact]
    public void Plain_json_written_before_binary_segments_still_reads()
    {
        // The JSON System.Text.Json wrote for this type before: byte[] as base64, float[] as a JSON array.
        var json = """{"Name":"old","Shape":[2],"Raw":"AQID","Values":[1.5,-2.25],"Extra":"BAU="}"""u8.ToArray();
        var read = (TensorMessage)Serializer().Deserialize(json, typeof(TensorMessage), "test")!;
        Assert.Equal([1, 2, 3], read.Raw);
        Assert.Equal([1.5f, -2.25f], read.Values);
        Assert.Equal([4, 5], read.Extra.ToArray());
        // A value without arrays stays plain JSON (readable state files, same bytes as before).
        var plain = Serializer().Serialize(new Dictionary<string, int> { ["a"] = 1 }, typeof(Dictionary<string, int>));
        Assert.Equal("""{"a":1}""", System.Text.Encoding.UTF8.GetString(plain.Span));
    }

    [Fact]
    public void A_truncated_container_is_refused_with_an_error_naming_where()
    {
        var serializer = Serializer();
        var encoded = serializer.Serialize(new TensorMessage { Raw = [1, 2, 3, 4] }, typeof(TensorMessage));
        var cut = encoded[..^2];
        var e = Assert.Throws<SerializationException>(() => serializer.Deserialize(cut, typeof(TensorMessage), "Echo argument 'message'"));
        Assert.Contains("Echo argument 'message'", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public async Task A_tensor_message_crosses_a_real_silo_and_back_bit_exactly()
    {
        var dir = Directory.CreateTempSubdirectory("aligncluster-binary-");
        var key = ClusterKey.Generate();
        string[] args = ["--cluster:key=" + key, "--cluster:id=binary", "--network:port=0", "--storage:default=local:" + dir.FullName,
            "--Logging:LogLevel:Default=Warning"];
        using var host = SiloHostBuilder.Create(args, _ => new RuntimeOptions().AddGrain<TensorEchoGrain>()).Build();
        await host.StartAsync();
        try
        {
            var silo = host.Services.GetRequiredService<SiloHostedService>();
            await using var transport = new TransportClient(new ClusterKey(key));
            await using var view = new GatewayMembershipView(transport, [$"{silo.Address!.Host}:{silo.Address.Port}"]);
            await view.StartAsync(TimeSpan.FromSeconds(1), default);
            await TransportTests.WaitUntil(() => view.Current.ActiveSilos.Count == 1, 30, "the silo active in the client's view");
            var client = new ClusterClient(new RuntimeOptions().AddGrainInterface<ITensorEchoGrain>(), new GrpcSiloTransport(transport), view);

            var message = Sample();
            var echoed = await client.GetGrain<ITensorEchoGrain>("t").Echo(message);
            AssertBitExact(message, echoed);
        }
        finally
        {
            await host.StopAsync();
            dir.Delete(recursive: true);
        }
    }
}
