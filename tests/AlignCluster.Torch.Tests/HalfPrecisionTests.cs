using F = AlignCluster.Torch.NN.Functional;

namespace AlignCluster.Torch.Tests;

/// <summary>BFloat16 computes on CPU; Float16 converts and adds on CPU (libtorch 1.13 has no CPU half matmul).</summary>
public class HalfPrecisionTests
{
    [Fact]
    public void BFloat16_transformer_ops_agree_with_float32_to_bfloat16_precision()
    {
        using var scope = DisposeScope.Begin();
        using var g = new Generator(5);
        var a = Tensor.Randn([8, 16], generator: g);
        var b = Tensor.Randn([16, 4], generator: g);
        var (a16, b16) = (a.To(DType.BFloat16), b.To(DType.BFloat16));
        Assert.Equal(DType.BFloat16, a16.MatMul(b16).DType);
        // bfloat16 keeps 8 significant bits: relative error per element ≲ 2⁻⁸, sums of 16 products ≲ a few %.
        Assert.True(a16.MatMul(b16).To(DType.Float32).AllClose(a.MatMul(b), rtol: 5e-2, atol: 1e-1));
        Assert.True(a16.Softmax(-1).To(DType.Float32).AllClose(a.Softmax(-1), rtol: 2e-2, atol: 1e-2));
        Assert.True(F.LayerNorm(a16, [16]).To(DType.Float32).AllClose(F.LayerNorm(a, [16]), rtol: 5e-2, atol: 5e-2));
        Assert.True(a16.Gelu().To(DType.Float32).AllClose(a.Gelu(), rtol: 2e-2, atol: 1e-2));
        var w = Tensor.Ones([16], DType.BFloat16);
        Assert.Equal(DType.BFloat16, F.RmsNorm(a16, w).DType); // normalized in float32, cast back like HF Llama
    }

    [Fact]
    public void Float16_converts_and_adds_on_cpu_and_reports_missing_kernels()
    {
        using var scope = DisposeScope.Begin();
        var h = Tensor.From<float>([0.5f, 1.25f, -3f]).To(DType.Float16);
        Assert.Equal([1f, 2.5f, -6f], (h + h).To(DType.Float32).ToArray<float>()); // exactly representable in half
        var m = Tensor.Ones([2, 2], DType.Float16);
        if (LibTorch.Version.StartsWith("1.", StringComparison.Ordinal))
            Assert.Contains("not implemented for 'Half'", Assert.Throws<TorchException>(() => m.MatMul(m)).Message);
    }
}
