using AlignCluster.Models.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Models.Tests;

/// <summary>Our AdamW against a second implementation (TorchSharp's own AdamW) and the clipping against hand
/// sums.</summary>
public sealed class AdamWOptimizerTests
{
    /// <summary>
    /// Same start, same gradients for five steps (changing learning rate, weight decay 0.01): our weights and
    /// moments equal those of <c>torch.optim.AdamW</c>, which implements the same published update, to float rounding.
    /// </summary>
    [Fact]
    public void FiveStepsMatchTorchSharpsAdamW()
    {
        float[] start = [0.5f, -1.25f, 2f, 0.03f];
        using var ours = torch.tensor(start).requires_grad_();
        using var theirs = torch.nn.Parameter(torch.tensor(start));
        using var optimizer = new AdamWOptimizer([ours], weightDecay: 0.01);
        using var reference = torch.optim.AdamW([theirs], lr: 1e-3, weight_decay: 0.01);
        for (int step = 1; step <= 5; step++)
        {
            double lr = 0.01 * step;
            float[] grad = [0.1f * step, -2f, 0.5f / step, 3f * step];
            ours.grad = torch.tensor(grad);
            theirs.grad = torch.tensor(grad);
            optimizer.Step(lr);
            foreach (var group in reference.ParamGroups)
                group.LearningRate = lr;
            reference.step();
        }
        var expected = theirs.data<float>().ToArray();
        var actual = ours.data<float>().ToArray();
        for (int i = 0; i < start.Length; i++)
            Assert.Equal(expected[i], actual[i], 6);
        Assert.Equal(5, optimizer.StepCount);
    }

    /// <summary>
    /// Global norm of gradients [3, 4] and [12]: √(9 + 16 + 144) = 13 (by hand). maxNorm 0 means no clipping
    /// (TorchSharp's
    /// clip_grad_norm_ throws for an unbounded bound); maxNorm 6.5 halves every gradient (6.5 / (13 + 1e-6)).
    /// </summary>
    [Fact]
    public void ClippingScalesToTheMaxNormAndZeroMeansNone()
    {
        using var a = torch.zeros(2).requires_grad_();
        using var b = torch.zeros(1).requires_grad_();
        using var optimizer = new AdamWOptimizer([a, b], weightDecay: 0);
        a.grad = torch.tensor(new float[] { 3, 4 });
        b.grad = torch.tensor(new float[] { 12 });
        Assert.Equal(13, optimizer.ClipGradNorm(0), 9);
        Assert.Equal([3f, 4f], a.grad!.data<float>().ToArray());
        Assert.Equal(13, optimizer.ClipGradNorm(6.5), 9);
        double factor = 6.5 / (13 + 1e-6);
        Assert.Equal(3 * factor, a.grad!.data<float>()[0], 5);
        Assert.Equal(12 * factor, b.grad!.data<float>()[0], 5);
    }
}
