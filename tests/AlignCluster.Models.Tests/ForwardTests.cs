using AlignCluster.Models.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Models.Tests;

public sealed class ForwardTests
{
    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    [InlineData("qwen2")]
    [InlineData("mistral")]
    public void KvCachedDecodingGivesTheFullForwardLogits(string variant)
    {
        using var model = TinyModels.Create(variant, seed: 11);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var ids = TinyModels.RandomIds(2, 12, seed: 1);
        var full = model.Network.Forward(ids); // (2, 12, V)

        using var cache = new KvCache(model.Config.NumLayers);
        var steps = new List<Tensor> { model.Network.Forward(ids.narrow(1, 0, 5), null, cache) }; // prompt of 5
        for (int t = 5; t < 12; t++)
            steps.Add(model.Network.Forward(ids.narrow(1, t, 1), null, cache));
        var cached = torch.cat(steps, 1);
        Assert.Equal(12, cache.Length);
        Assert.True(
            cached.allclose(full, rtol: 1e-4, atol: 1e-5),
            $"max diff {cached.sub(full).abs().max().ToDouble()}"
        );
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    [InlineData("mistral")]
    public void PaddedRowsMatchTheirUnpaddedForward(string variant)
    {
        using var model = TinyModels.Create(variant, seed: 12);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var row = TinyModels.RandomIds(1, 7, seed: 2);
        var alone = model.Network.Forward(row); // (1, 7, V)

        // Left padding by 3 and right padding by 3 must not change the real positions' logits.
        var pad = torch.full(new long[] { 1, 3 }, 0, dtype: ScalarType.Int64);
        var ones = torch.ones(new long[] { 1, 7 }, dtype: ScalarType.Int64);
        var zeros = torch.zeros(new long[] { 1, 3 }, dtype: ScalarType.Int64);
        var left = model.Network.Forward(torch.cat([pad, row], 1), torch.cat([zeros, ones], 1)).narrow(1, 3, 7);
        var right = model.Network.Forward(torch.cat([row, pad], 1), torch.cat([ones, zeros], 1)).narrow(1, 0, 7);
        Assert.True(
            left.allclose(alone, 1e-4, 1e-5),
            $"left padding: max diff {left.sub(alone).abs().max().ToDouble()}"
        );
        Assert.True(
            right.allclose(alone, 1e-4, 1e-5),
            $"right padding: max diff {right.sub(alone).abs().max().ToDouble()}"
        );
        Assert.False(left.isnan().any().item<bool>(), "NaN in padded output");
    }

    [Fact]
    public void Llama3RopeScalingMatchesHandComputedFrequencies()
    {
        // D = 8, θ = 10000: base inv_freq = 1, 0.1, 0.01, 0.001 → wavelengths 2π/f = 6.28, 62.8, 628, 6283.
        // original context 16, low/high freq factors 1/4 → wavelength bands: > 16 slowed by factor 8, < 4 kept,
        // between: smooth = (16/6.2832 − 1)/(4 − 1) = 0.515493, f' = (1 − s)·1/8 + s·1 = 0.576056.
        var inv = Rope.InverseFrequencies(8, 10000, new RopeScaling("llama3", 8, 1, 4, 16));
        Assert.Equal(0.576056, inv[0], 5);
        Assert.Equal(0.1 / 8, inv[1], 12);
        Assert.Equal(0.01 / 8, inv[2], 12);
        Assert.Equal(0.001 / 8, inv[3], 12);
        Assert.Equal(
            [0.5, 0.05, 0.005, 0.0005],
            Rope.InverseFrequencies(8, 10000, new RopeScaling("linear", 2)).Select(x => Math.Round(x, 12))
        );
    }

    [Fact]
    public void RopeRotatesChannelPairsByPositionTimesFrequency()
    {
        using var scope = torch.NewDisposeScope();
        const int d = 4;
        var x = torch.tensor(new float[] { 1f, 2f, 3f, 4f }, [1, 1, 1, d]); // (B, H, T, D) at position 5
        var inv = Rope.InverseFrequencies(d, 100, null); // 1, 0.1
        var (cos, sin) = Rope.Tables(
            torch.tensor(new long[] { 5L }, [1, 1]),
            torch.tensor(inv.Select(f => (float)f).ToArray()),
            ScalarType.Float32
        );
        var y = Rope.Apply(x, cos, sin).data<float>().ToArray();
        // Scalar reference: pair (i, i + D/2) rotated by angle 5·inv[i]: (a, b) → (a·cos − b·sin, a·sin + b·cos).
        for (int i = 0; i < d / 2; i++)
        {
            double angle = 5 * inv[i],
                a = i + 1,
                b = i + 3;
            Assert.Equal(a * Math.Cos(angle) - b * Math.Sin(angle), y[i], 5);
            Assert.Equal(a * Math.Sin(angle) + b * Math.Cos(angle), y[i + d / 2], 5);
        }
    }
}
