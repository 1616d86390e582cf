using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Models.Nn;

/// <summary>
/// AdamW with decoupled weight decay (PyTorch's update) over a fixed list of parameters, its moments kept as plain
/// tensors beside them, plus global-norm gradient clipping. Per parameter p with gradient g, at step t:
/// <code>
/// p ← p·(1 − lr·λ)
/// m ← β₁·m + (1 − β₁)·g            v ← β₂·v + (1 − β₂)·g²
/// p ← p − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
/// </code>
/// Why not TorchSharp's <c>torch.optim.AdamW</c>: it hands implicitly converted <see cref="Scalar"/>s to native calls
/// without keeping them alive, so the finalizer can free one in the middle of the call (a demo run failed with
/// libtorch's "Expected false to be true" from <c>Scalar::toFloat</c> inside <c>add_</c>); and its
/// <c>clip_grad_norm_</c> refuses an unbounded max norm (it converts it to float). Here every Scalar lives in a
/// <c>using</c> scope that spans its native calls, and "no clipping" is a branch, not a huge bound.
/// </summary>
public sealed class AdamWOptimizer : IDisposable
{
    private readonly Tensor[] _parameters;
    private readonly Tensor[] _expAvg,
        _expAvgSq;

    /// <param name="parameters">The parameters, in the order their moments are saved.</param>
    /// <param name="weightDecay">λ, decoupled; 0 for none (explicit: TorchSharp's AdamW defaults to 0, PyTorch to
    /// 0.01).</param>
    public AdamWOptimizer(
        IEnumerable<Tensor> parameters,
        double weightDecay,
        double beta1 = 0.9,
        double beta2 = 0.999,
        double eps = 1e-8
    )
    {
        _parameters = [.. parameters];
        (WeightDecay, Beta1, Beta2, Eps) = (weightDecay, beta1, beta2, eps);
        using var noGrad = torch.no_grad();
        // Created outside any caller's dispose scope: the moments live as long as the optimizer.
        _expAvg = [.. _parameters.Select(p => torch.zeros_like(p).DetachFromDisposeScope())];
        _expAvgSq = [.. _parameters.Select(p => torch.zeros_like(p).DetachFromDisposeScope())];
    }

    public double WeightDecay { get; }
    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }

    /// <summary>Steps taken (t); restored with the moments from a checkpoint.</summary>
    public long StepCount { get; set; }

    /// <summary>First moments m, one per parameter, same shape and device.</summary>
    public IReadOnlyList<Tensor> ExpAvg => _expAvg;

    /// <summary>Second moments v, one per parameter, same shape and device.</summary>
    public IReadOnlyList<Tensor> ExpAvgSq => _expAvgSq;

    /// <summary>
    /// The global L2 norm of every gradient (float64 sum of squares) before clipping; when <paramref name="maxNorm"/>
    /// is positive and the norm exceeds it, every gradient is scaled by maxNorm / (norm + 1e-6).
    /// </summary>
    public double ClipGradNorm(double maxNorm)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var grads = _parameters.Select(p => p.grad).OfType<Tensor>().ToArray();
        if (grads.Length == 0)
            return 0;
        var squares = torch.stack(
            grads.Select(g =>
            {
                var d = g.to_type(ScalarType.Float64);
                return (d * d).sum();
            })
        );
        double norm = Math.Sqrt(squares.sum().cpu().item<double>());
        if (maxNorm > 0 && norm > maxNorm)
        {
            using Scalar coefficient = maxNorm / (norm + 1e-6);
            foreach (var g in grads)
                g.mul_(coefficient);
        }
        return norm;
    }

    /// <summary>One AdamW step that descends the current gradients with learning rate <paramref name="lr"/>.</summary>
    public void Step(double lr)
    {
        StepCount++;
        double correction1 = 1 - Math.Pow(Beta1, StepCount),
            correction2 = 1 - Math.Pow(Beta2, StepCount);
        using Scalar decay = 1 - lr * WeightDecay,
            beta1 = Beta1,
            keep1 = 1 - Beta1,
            beta2 = Beta2,
            keep2 = 1 - Beta2;
        using Scalar eps = Eps,
            sqrtCorrection2 = Math.Sqrt(correction2),
            stepSize = -lr / correction1;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        for (int i = 0; i < _parameters.Length; i++)
        {
            if (_parameters[i].grad is not { } g)
                continue;
            if (WeightDecay != 0)
                _parameters[i].mul_(decay);
            _expAvg[i].mul_(beta1).add_(g, keep1);
            _expAvgSq[i].mul_(beta2).addcmul_(g, g, keep2);
            var denominator = _expAvgSq[i].sqrt().div_(sqrtCorrection2).add_(eps);
            _parameters[i].addcdiv_(_expAvg[i], denominator, stepSize);
        }
    }

    /// <summary>Sets every gradient to zero (kept allocated for the next backward).</summary>
    public void ZeroGrad()
    {
        // `p.grad` hands out a new wrapper of the gradient each time. Outside a dispose scope nothing else holds it, so
        // the garbage collector may finalize it (freeing its native handle) while zero_ still runs on that handle: the
        // demo crashed so (SIGSEGV in libtorch, once in a few runs). The scope keeps every wrapper alive until the end.
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        foreach (var p in _parameters)
            p.grad?.zero_();
    }

    public void Dispose()
    {
        foreach (var t in _expAvg.Concat(_expAvgSq))
            t.Dispose();
    }
}
