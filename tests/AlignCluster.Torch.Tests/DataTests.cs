namespace AlignCluster.Torch.Tests;

/// <summary>Creation from spans and raw bytes, copy-out, dtypes and devices.</summary>
public class DataTests
{
    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    [InlineData(DType.BFloat16)]
    [InlineData(DType.Float16)]
    [InlineData(DType.Int64)]
    [InlineData(DType.Int32)]
    [InlineData(DType.Bool)]
    [InlineData(DType.UInt8)]
    public void FromBytes_and_ToBytes_round_trip_every_dtype(DType dtype)
    {
        using var scope = DisposeScope.Begin();
        var size = dtype.ElementSize();
        var bytes = new byte[6 * size];
        for (var i = 0; i < bytes.Length; i++) bytes[i] = dtype == DType.Bool ? (byte)(i % 2) : (byte)(i * 7 + 1);
        if (dtype is DType.Float16 or DType.BFloat16) // keep every 16-bit pattern a finite number (no NaN payloads)
            for (var i = 1; i < bytes.Length; i += 2) bytes[i] &= 0x3F;
        var t = Tensor.FromBytes(dtype, [2, 3], bytes);
        Assert.Equal(dtype, t.DType);
        Assert.Equal([2L, 3], t.Shape);
        Assert.Equal(bytes.Length, t.ByteCount);
        Assert.Equal(bytes, t.ToBytes());
        var transposed = new byte[bytes.Length]; // C# reference: element (i, j) of the (2, 3) tensor goes to (j, i)
        for (var i = 0; i < 2; i++)
            for (var j = 0; j < 3; j++) Array.Copy(bytes, (i * 3 + j) * size, transposed, (j * 2 + i) * size, size);
        Assert.Equal(transposed, t.T().ToBytes()); // copy-out of a non-contiguous view is row-major
    }

    [Fact]
    public void BFloat16_bytes_are_the_top_half_of_float32()
    {
        using var scope = DisposeScope.Begin();
        // 1.5f = 0x3FC00000 → bfloat16 0x3FC0 (little endian C0 3F); −2f = 0xC0000000 → 0xC000
        var t = Tensor.From<float>([1.5f, -2f]).To(DType.BFloat16);
        Assert.Equal(new byte[] { 0xC0, 0x3F, 0x00, 0xC0 }, t.ToBytes());
        Assert.Equal([1.5f, -2f], t.To(DType.Float32).ToArray<float>());
        var h = Tensor.From<Half>([(Half)0.5, (Half)(-1)]);
        Assert.Equal(DType.Float16, h.DType);
        Assert.Equal(new byte[] { 0x00, 0x38, 0x00, 0xBC }, h.ToBytes()); // IEEE half: 0.5 = 0x3800, −1 = 0xBC00
    }

    [Fact]
    public void From_and_ToArray_round_trip_with_shape()
    {
        using var scope = DisposeScope.Begin();
        var t = Tensor.From<float>([1, 2, 3, 4, 5, 6], 3, 2);
        Assert.Equal([3L, 2], t.Shape);
        Assert.Equal(DType.Float32, t.DType);
        Assert.Equal([1f, 2, 3, 4, 5, 6], t.ToArray<float>());
        Assert.Equal(4f, t.Select(0, 1).Select(0, 1).Item<float>());
        var span = new long[3];
        Tensor.From<long>([7, 8, 9]).CopyTo<long>(span);
        Assert.Equal([7L, 8, 9], span);
        Assert.Throws<TorchException>(() => t.ToArray<double>()); // dtype mismatch is an error, not a reinterpretation
        Assert.Equal([true, false], Tensor.From<bool>([true, false]).ToArray<bool>());
    }

    [Fact]
    public void DataAsBytes_writes_into_the_tensor()
    {
        using var scope = DisposeScope.Begin();
        var t = Tensor.Zeros([2], DType.Int32);
        BitConverter.TryWriteBytes(t.DataAsBytes()[4..], 42);
        Assert.Equal([0, 42], t.ToArray<int>());
    }

    [Fact]
    public void Factories_make_the_requested_values()
    {
        using var scope = DisposeScope.Begin();
        Assert.Equal([0.0, 0, 0], Tensor.Zeros([3], DType.Float64).ToArray<double>());
        Assert.Equal([1L, 1], Tensor.Ones([2], DType.Int64).ToArray<long>());
        Assert.Equal([2.5f, 2.5f], Tensor.Full([2], 2.5).ToArray<float>());
        Assert.Equal([0L, 1, 2, 3], Tensor.Arange(4).ToArray<long>());
        Assert.Equal([1.0, 1.5, 2.0, 2.5], Tensor.Arange(1.0, 3.0, 0.5, DType.Float64).ToArray<double>());
        Assert.Equal([0f, 0.5f], Tensor.Arange(0, 1.0, 0.5).ToArray<float>()); // a float bound infers Float32
        Assert.Equal(DType.Int64, Tensor.Arange(0, 4, 2).DType);
        Assert.Equal([1.0f, 2.0f], Tensor.From(new[] { 1.0f, 2.0f }).ToArray<float>()); // T inferred from an array
        Assert.Equal(3.0, Tensor.FromScalar(3.0, DType.Float64).ToDouble());
        Assert.Equal(0, Tensor.FromScalar(1).Dim);
        var like = Tensor.OnesLike(Tensor.Zeros([2, 2], DType.Float64));
        Assert.Equal(DType.Float64, like.DType);
        Assert.Equal([1.0, 1, 1, 1], like.ToArray<double>());
        var ints = Tensor.RandInt(3, 7, [1000]).ToArray<long>();
        Assert.True(ints.All(v => v is >= 3 and < 7) && ints.Distinct().Count() == 4);
    }

    [Fact]
    public void Generators_and_manual_seed_reproduce_samples()
    {
        using var scope = DisposeScope.Begin();
        using var g1 = new Generator(42);
        using var g2 = new Generator(42);
        Assert.Equal(Tensor.Randn([5], generator: g1).ToArray<float>(), Tensor.Randn([5], generator: g2).ToArray<float>());
        g1.ManualSeed(1);
        var a = Tensor.Rand([5], generator: g1).ToArray<float>();
        g1.ManualSeed(1);
        Assert.Equal(a, Tensor.Rand([5], generator: g1).ToArray<float>());
        Assert.True(a.All(v => v is >= 0 and < 1));
        LibTorch.ManualSeed(3);
        var b = Tensor.Randn([4]).ToArray<float>();
        LibTorch.ManualSeed(3);
        Assert.Equal(b, Tensor.Randn([4]).ToArray<float>());
        var probs = Tensor.From<float>([0, 0, 1, 0]);
        Assert.Equal(2L, probs.Multinomial(1, generator: g1).ToInt64()); // all mass on index 2
    }

    [Fact]
    public void Thread_count_is_set_at_start_from_the_environment_or_the_core_count()
    {
        var configured = Environment.GetEnvironmentVariable("ALIGNCLUSTER_THREADS");
        Assert.Equal(string.IsNullOrEmpty(configured) ? Environment.ProcessorCount : int.Parse(configured), LibTorch.NumThreads);
    }

    [Fact]
    public async Task Errors_are_per_thread()
    {
        using var start = new Barrier(2);
        var failing = Task.Run(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < 200; i++)
                Assert.Throws<TorchException>(() => { using var s = DisposeScope.Begin(); Tensor.Zeros([2]).View(3); });
        });
        var healthy = Task.Run(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < 200; i++)
            {
                using var s = DisposeScope.Begin();
                Assert.Null(Tensor.Ones([1]).Grad); // a failure on the other thread never shows up here
            }
        });
        await Task.WhenAll(failing, healthy);
    }

    [Fact]
    public void Devices_parse_and_cpu_is_reported()
    {
        using var scope = DisposeScope.Begin();
        Assert.Equal(Device.Cpu, Tensor.Zeros([1]).Device);
        Assert.Equal(Device.Cuda(1), Device.Parse("cuda:1"));
        Assert.Equal(Device.Cuda(0), Device.Parse("cuda"));
        Assert.Equal("cuda:2", Device.Cuda(2).ToString());
        Assert.Throws<FormatException>(() => Device.Parse("tpu"));
        Assert.True(LibTorch.CudaDeviceCount >= 0);
        if (!LibTorch.CudaIsAvailable)
            Assert.Throws<TorchException>(() => Tensor.Zeros([1], device: Device.Cuda(0)));
        Assert.Matches(@"^\d+\.\d+", LibTorch.Version);
    }
}
