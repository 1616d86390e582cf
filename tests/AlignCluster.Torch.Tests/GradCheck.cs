using System.Runtime.InteropServices;

namespace AlignCluster.Torch.Tests;

/// <summary>
/// Central finite differences in float64: for the scalar L = Σ w ⊙ f(inputs) with fixed random w, compares
/// autograd's dL/dx with (L(x + h·eᵢ) − L(x − h·eᵢ)) / 2h for every element of every input that requires grad.
/// </summary>
internal static class GradCheck
{
    private const double H = 1e-6;

    public static void Check(Func<Tensor[], Tensor> f, Tensor[] inputs, double atol = 1e-6, double rtol = 1e-4, ulong seed = 7)
    {
        using var scope = DisposeScope.Begin();
        LibTorch.ManualSeed(seed); // ops that draw random numbers (dropout) draw the same ones every evaluation
        var output = f(inputs);
        using var weightGenerator = new Generator(1234);
        var weights = Tensor.Randn(output.Shape, DType.Float64, generator: weightGenerator);
        (output * weights).Sum().Backward();

        foreach (var input in inputs.Where(t => t.RequiresGrad))
        {
            Assert.Equal(DType.Float64, input.DType);
            var analytic = input.Grad?.ToArray<double>() ?? new double[input.NumElements];
            var data = MemoryMarshal.Cast<byte, double>(input.DataAsBytes());
            for (var i = 0; i < data.Length; i++)
            {
                var original = data[i];
                data[i] = original + H;
                var plus = Evaluate(f, inputs, weights, seed);
                data[i] = original - H;
                var minus = Evaluate(f, inputs, weights, seed);
                data[i] = original;
                var numeric = (plus - minus) / (2 * H);
                var tolerance = atol + rtol * Math.Abs(numeric);
                Assert.True(Math.Abs(analytic[i] - numeric) <= tolerance,
                    $"element {i}: autograd {analytic[i]:R}, finite differences {numeric:R}");
            }
        }
    }

    private static double Evaluate(Func<Tensor[], Tensor> f, Tensor[] inputs, Tensor weights, ulong seed)
    {
        using var scope = DisposeScope.Begin();
        using var noGrad = Autograd.NoGrad();
        LibTorch.ManualSeed(seed);
        return (f(inputs) * weights).Sum().ToDouble();
    }

    /// <summary>A float64 leaf with values drawn from N(0,1) (or U(lo, hi)), reproducible from <paramref name="seed"/>.</summary>
    public static Tensor Input(long[] shape, ulong seed, double? lo = null, double? hi = null)
    {
        using var g = new Generator(seed);
        var t = lo is { } l && hi is { } h
            ? Tensor.Rand(shape, DType.Float64, generator: g) * (h - l) + l
            : Tensor.Randn(shape, DType.Float64, generator: g);
        return t.RequiresGrad_();
    }
}
