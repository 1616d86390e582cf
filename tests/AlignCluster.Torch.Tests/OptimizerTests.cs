using AlignCluster.Torch.NN;
using AlignCluster.Torch.Optim;

namespace AlignCluster.Torch.Tests;

/// <summary>Optimizers, clipping and schedules against scalar reimplementations of their formulas.</summary>
public class OptimizerTests
{
    // Loss Σ c·p² (gradient 2c·p) on a float64 parameter, so the reference can run on plain doubles.
    private static void Backward(Parameter p, double[] c)
    {
        using var scope = DisposeScope.Begin();
        (p * p * Tensor.From<double>(c)).Sum().Backward();
    }

    [Fact]
    public void AdamW_matches_scalar_reference()
    {
        double[] start = [0.5, -1.5, 2.0], c = [1, 0.3, -0.2];
        using var p = new Parameter(Tensor.From<double>(start));
        using var opt = new AdamW([p], learningRate: 0.1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.05);
        var w = (double[])start.Clone();
        var m = new double[3];
        var v = new double[3];
        for (var t = 1; t <= 4; t++)
        {
            opt.ZeroGrad();
            Backward(p, c);
            opt.Step();
            for (var i = 0; i < 3; i++) // torch.optim.AdamW, written out
            {
                var g = 2 * c[i] * w[i];
                w[i] *= 1 - 0.1 * 0.05;
                m[i] = 0.9 * m[i] + 0.1 * g;
                v[i] = 0.99 * v[i] + 0.01 * g * g;
                var mHat = m[i] / (1 - Math.Pow(0.9, t));
                var vHat = v[i] / (1 - Math.Pow(0.99, t));
                w[i] -= 0.1 * mHat / (Math.Sqrt(vHat) + 1e-8);
            }
        }
        var actual = p.ToArray<double>();
        for (var i = 0; i < 3; i++) Assert.Equal(w[i], actual[i], 12);
        Assert.Equal(4, opt.StepCount);
    }

    [Theory]
    [InlineData(0.0, false)]
    [InlineData(0.9, false)]
    [InlineData(0.9, true)]
    public void Sgd_matches_scalar_reference(double momentum, bool nesterov)
    {
        double[] start = [1.0, -2.0], c = [0.5, 1.0];
        using var p = new Parameter(Tensor.From<double>(start));
        using var opt = new Sgd([p], learningRate: 0.1, momentum: momentum, weightDecay: 0.01, nesterov: nesterov);
        var w = (double[])start.Clone();
        var buf = new double[2];
        for (var t = 1; t <= 3; t++)
        {
            opt.ZeroGrad();
            Backward(p, c);
            opt.Step();
            for (var i = 0; i < 2; i++) // torch.optim.SGD, written out
            {
                var g = 2 * c[i] * w[i] + 0.01 * w[i];
                if (momentum != 0)
                {
                    buf[i] = t == 1 ? g : momentum * buf[i] + g;
                    g = nesterov ? g + momentum * buf[i] : buf[i];
                }
                w[i] -= 0.1 * g;
            }
        }
        var actual = p.ToArray<double>();
        for (var i = 0; i < 2; i++) Assert.Equal(w[i], actual[i], 12);
    }

    [Fact]
    public void ClipGradNorm_scales_to_max_norm_and_returns_the_total()
    {
        using var a = new Parameter(Tensor.From<double>([0, 0]));
        using var b = new Parameter(Tensor.From<double>([0]));
        a.Grad = Tensor.From<double>([3, 0]).DetachFromScope();
        b.Grad = Tensor.From<double>([4]).DetachFromScope();
        var total = GradientClipping.ClipGradNorm([a, b], maxNorm: 1.0);
        Assert.Equal(5.0, total, 12); // √(3² + 4²)
        Assert.Equal(3 / (5 + 1e-6), a.Grad!.ToArray<double>()[0], 12);
        Assert.Equal(4 / (5 + 1e-6), b.Grad!.ToDouble(), 12);
        Assert.Equal(1.0, GradientClipping.ClipGradNorm([a, b], maxNorm: 10), 5); // under the bound: unchanged
    }

    [Fact]
    public void Optimizer_state_round_trips()
    {
        using var p = new Parameter(Tensor.From<double>([1.0, 2.0]));
        using var q = new Parameter(Tensor.From<double>([1.0, 2.0]));
        using var first = new AdamW([p], learningRate: 0.1);
        using var second = new AdamW([q], learningRate: 0.1);
        Backward(p, [1, 1]);
        first.Step();
        using (var state = DisposeScope.Begin()) second.LoadStateDict(first.StateDict());
        using (Autograd.NoGrad()) q.Copy_(p);
        first.ZeroGrad();
        Backward(p, [1, 1]);
        Backward(q, [1, 1]);
        first.Step();
        second.Step();
        Assert.True(p.ValueEquals(q));
        Assert.Equal(2, second.StepCount);
    }

    [Fact]
    public void Schedules_equal_hand_values()
    {
        var linear = LrSchedule.WarmupLinear(peak: 1.0, warmupSteps: 10, totalSteps: 110);
        Assert.Equal(0.0, linear.At(0));
        Assert.Equal(0.5, linear.At(5));
        Assert.Equal(1.0, linear.At(10));
        Assert.Equal(0.5, linear.At(60), 12);  // halfway through the decay
        Assert.Equal(0.0, linear.At(110), 12);
        Assert.Equal(0.0, linear.At(500), 12);
        var cosine = LrSchedule.WarmupCosine(peak: 2.0, warmupSteps: 0, totalSteps: 100, minLearningRate: 0.2);
        Assert.Equal(2.0, cosine.At(0), 12);
        Assert.Equal(0.2 + 1.8 * 0.5, cosine.At(50), 12); // cos(π/2) = 0 → midpoint
        Assert.Equal(0.2 + 1.8 * 0.5 * (1 + Math.Cos(Math.PI / 4)), cosine.At(25), 12);
        Assert.Equal(0.2, cosine.At(100), 12);
        Assert.Equal(3e-4, LrSchedule.Constant(3e-4).At(1234));
        Assert.Throws<ArgumentException>(() => LrSchedule.WarmupLinear(1, 20, 10));
    }
}
