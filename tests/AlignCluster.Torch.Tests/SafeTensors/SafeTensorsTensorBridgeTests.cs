using AlignCluster.Torch.SafeTensors;

namespace AlignCluster.Torch.Tests.SafeTensors;

public sealed class SafeTensorsTensorBridgeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("st-bridge").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    [InlineData(DType.BFloat16)]
    [InlineData(DType.Float16)]
    [InlineData(DType.Int64)]
    [InlineData(DType.Bool)]
    public void TensorsRoundTripThroughAFileBitForBit(DType dtype)
    {
        using var scope = DisposeScope.Begin();
        var source = Tensor.Arange(-6, 6, 1, DType.Float32).Div(4).Reshape(3, 4).To(dtype);   // exact in every dtype here
        string path = Path.Combine(_dir, "t.safetensors");
        SafeTensorsTensors.Save(path, [("x", source), ("x_t", source.T())]);                 // a non-contiguous view too

        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(dtype.ToSafeTensors(), file.Info("x").DType);
        var loaded = file.ReadTensor("x");
        Assert.Equal(source.Shape, loaded.Shape);
        Assert.Equal(dtype, loaded.DType);
        Assert.Equal(source.ToBytes(), loaded.ToBytes());
        Assert.True(file.ReadTensor("x_t").ValueEquals(source.T()));
    }

    [Fact]
    public void CopyIntoConvertsDTypeAndChecksShape()
    {
        using var scope = DisposeScope.Begin();
        string path = Path.Combine(_dir, "c.safetensors");
        SafeTensorsWriter.Write(path, [SafeTensorEntry.FromBytes("w", SafeTensorDType.BF16, [2],
            SafeTensorValues.Encode([1.5f, -2f], SafeTensorDType.BF16))]);
        using var file = SafeTensorsFile.Open(path);

        var target = Tensor.Zeros([2]);
        file.CopyInto("w", target);
        Assert.Equal([1.5f, -2f], target.ToArray<float>());   // both exact in bfloat16

        var e = Assert.Throws<SafeTensorsException>(() => file.CopyInto("w", Tensor.Zeros([3])));
        Assert.Contains("'w'", e.Message);
        Assert.Contains("[2]", e.Message);
        Assert.Contains("[3]", e.Message);
    }
}
