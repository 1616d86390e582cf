using System.Runtime.InteropServices;
using AlignCluster.Models.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Models.Tests;

/// <summary>The helpers that fill TorchSharp's gaps, each against values computed by hand or by plain ops.</summary>
public sealed class TorchGapsTests
{
    [Fact]
    public void MatMulOfMismatchedShapesThrowsNamingBothInsteadOfAbortingTheProcess()
    {
        // torch.matmul itself aborts the test host (exit 134) on these shapes; reaching the assertion is the proof.
        using var scope = torch.NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => TorchGaps.MatMul(torch.ones(2, 3), torch.ones(4, 5)));
        Assert.Contains("[2, 3] @ [4, 5]", e.Message);
        // batch 2 vs 3
        Assert.Throws<ArgumentException>(() => TorchGaps.MatMul(torch.ones(2, 2, 3), torch.ones(3, 3, 4)));
        Assert.Throws<ArgumentException>(() => TorchGaps.MatMul(torch.ones(3), torch.ones(4)));
    }

    [Fact]
    public void MatMulOfMatchingShapesIsTheProduct()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.tensor(new float[] { 1, 2, 3, 4 }, [2, 2]);
        var b = torch.tensor(new float[] { 5, 6 }, [2, 1]);
        Assert.Equal([17f, 39f], TorchGaps.MatMul(a, b).data<float>().ToArray()); // 1·5+2·6, 3·5+4·6
        // batches broadcast
        Assert.Equal([2L, 4L, 2L, 1L], TorchGaps.MatMul(torch.ones(2, 1, 2, 2), torch.ones(4, 2, 1)).shape);
    }

    [Fact]
    public void LibTorchErrorsBecomeOneLineMessages()
    {
        using var scope = torch.NewDisposeScope();
        var e = Assert.ThrowsAny<ExternalException>(() =>
            torch.nn.functional.linear(torch.ones(2, 3), torch.ones(4, 5))
        );
        string message = TorchGaps.Message(e);
        Assert.StartsWith("libtorch: ", message);
        Assert.DoesNotContain("\n", message);
        Assert.DoesNotContain("Exception raised from", message);
        var wrapped = Assert.Throws<ArgumentException>(() =>
            TorchGaps.Checked("scoring", () => torch.nn.functional.linear(torch.ones(2, 3), torch.ones(4, 5)))
        );
        Assert.StartsWith("scoring: libtorch: ", wrapped.Message);
    }

    [Fact]
    public void AttentionWithGroupedHeadsAndAScaleMatchesTheComposedFormula()
    {
        using var scope = torch.NewDisposeScope();
        var g = new Generator(3);
        var q = torch.randn(new long[] { 1, 4, 3, 8 }, generator: g, dtype: ScalarType.Float64); // 4 query heads
        var k = torch.randn(new long[] { 1, 2, 3, 8 }, generator: g, dtype: ScalarType.Float64); // 2 kv heads
        var v = torch.randn(new long[] { 1, 2, 3, 8 }, generator: g, dtype: ScalarType.Float64);
        const double scale = 0.2; // not 1/√8
        var y = TorchGaps.Attention(q, k, v, mask: null, causal: true, scale: scale);
        // Reference: query head h reads kv head h / 2; softmax(q·kᵀ·scale with future keys at −∞)·v.
        var causal = torch.ones(3, 3, dtype: ScalarType.Bool).tril();
        for (int h = 0; h < 4; h++)
        {
            var scores = q[0, h].matmul(k[0, h / 2].t()) * scale;
            var expected = scores
                .masked_fill(causal.logical_not(), double.NegativeInfinity)
                .softmax(-1)
                .matmul(v[0, h / 2]);
            Assert.True(y[0, h].allclose(expected, 1e-9, 1e-9), $"head {h}");
        }
    }

    [Fact]
    public void RmsNormAndEmbeddingMatchHandValues()
    {
        using var scope = torch.NewDisposeScope();
        using var norm = new RmsNorm(2, eps: 0, ScalarType.Float64, torch.CPU);
        var y = norm.call(torch.tensor(new double[] { 3, 4 }, [1, 2])).data<double>().ToArray();
        double rms = Math.Sqrt((9 + 16) / 2.0); // weight starts at one
        Assert.Equal(3 / rms, y[0], 12);
        Assert.Equal(4 / rms, y[1], 12);
        var table = torch.tensor(new float[] { 0, 1, 10, 11, 20, 21 }, [3, 2]);
        var rows = TorchGaps.Embedding(torch.tensor(new long[] { 2, 0, 2, 1 }, [2, 2]), table);
        Assert.Equal([2L, 2L, 2L], rows.shape);
        Assert.Equal([20f, 21, 0, 1, 20, 21, 10, 11], rows.data<float>().ToArray());
    }

    [Fact]
    public void LoadStateDictNamesEveryMissingUnexpectedAndMisShapedKey()
    {
        using var model = CausalLM.Create(TinyModels.Gpt2());
        using var scope = torch.NewDisposeScope();
        var state = model.state_dict().ToDictionary(p => p.Key, p => p.Value.clone());
        state.Remove("transformer.ln_f.bias");
        state["transformer.wpe.weight"] = torch.zeros(3, 3);
        state["extra.weight"] = torch.zeros(1);
        var e = Assert.Throws<ArgumentException>(() => TorchGaps.LoadStateDict(model, state));
        Assert.Contains("missing 'transformer.ln_f.bias'", e.Message);
        Assert.Contains("unexpected 'extra.weight'", e.Message);
        Assert.Contains("'transformer.wpe.weight' is [3, 3]", e.Message);
    }

    [Fact]
    public void AModelBuiltInsideADisposeScopeKeepsItsParametersAfterTheScope()
    {
        // TorchSharp frees a Parameter created inside a scope with the scope; our layers detach theirs.
        CausalLM model;
        using (torch.NewDisposeScope())
            model = CausalLM.Create(TinyModels.Llama());
        using (model)
        using (var scope = torch.NewDisposeScope())
        using (torch.no_grad())
        {
            var logits = model.Forward(TinyModels.RandomIds(1, 4, seed: 1));
            Assert.Equal([1L, 4L, TinyModels.Vocab], logits.shape);
            Assert.False(logits.isnan().any().item<bool>());
        }
    }
}
