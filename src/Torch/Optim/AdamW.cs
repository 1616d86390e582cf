using AlignCluster.Torch.NN;
using AlignCluster.Torch.Native;

namespace AlignCluster.Torch.Optim;

/// <summary>
/// Adam with decoupled weight decay (Loshchilov &amp; Hutter), as torch.optim.AdamW (amsgrad off):
/// p ← p·(1 − lr·wd); m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; p ← p − lr·(m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε).
/// </summary>
public sealed class AdamW : Optimizer
{
    private readonly double beta1, beta2, eps, weightDecay;
    private readonly Tensor[][] expAvg, expAvgSq;

    /// <summary>AdamW over one group of parameters.</summary>
    public AdamW(IEnumerable<Parameter> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 1e-2)
        : this([new ParamGroup(parameters)], learningRate, beta1, beta2, eps, weightDecay) { }

    /// <summary>AdamW over several groups (a group's own learning rate / weight decay override the defaults).</summary>
    public AdamW(IEnumerable<ParamGroup> groups, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 1e-2) : base(groups, learningRate)
    {
        (this.beta1, this.beta2, this.eps, this.weightDecay) = (beta1, beta2, eps, weightDecay);
        expAvg = Groups.Select(g => ZerosLike(g.Parameters)).ToArray();
        expAvgSq = Groups.Select(g => ZerosLike(g.Parameters)).ToArray();
    }

    /// <inheritdoc />
    public override unsafe void Step()
    {
        StepCount++;
        for (var gi = 0; gi < Groups.Count; gi++)
        {
            var group = Groups[gi];
            var p = Tensor.Handles(group.Parameters);
            var m = Tensor.Handles(expAvg[gi]);
            var v = Tensor.Handles(expAvgSq[gi]);
            fixed (nint* pp = p, mp = m, vp = v)
                NativeMethods.Check(NativeMethods.act_adamw_step(pp, mp, vp, p.Length, group.LearningRate ?? LearningRate,
                    beta1, beta2, eps, group.WeightDecay ?? weightDecay, StepCount));
            GC.KeepAlive(group);
        }
    }

    /// <inheritdoc />
    public override Dictionary<string, Tensor> StateDict()
    {
        var state = new Dictionary<string, Tensor>();
        for (var gi = 0; gi < Groups.Count; gi++)
            for (var i = 0; i < expAvg[gi].Length; i++)
            {
                state[$"{gi}.{i}.exp_avg"] = expAvg[gi][i];
                state[$"{gi}.{i}.exp_avg_sq"] = expAvgSq[gi][i];
            }
        state["step"] = Tensor.FromScalar(StepCount, DType.Int64);
        return state;
    }

    /// <inheritdoc />
    public override void LoadStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        if (!state.TryGetValue("step", out var step)) throw new TorchException("optimizer state has no 'step'");
        for (var gi = 0; gi < Groups.Count; gi++)
        {
            LoadBuffers(Suffixed(state, gi, "exp_avg"), $"{gi}", expAvg[gi]);
            LoadBuffers(Suffixed(state, gi, "exp_avg_sq"), $"{gi}", expAvgSq[gi]);
        }
        StepCount = step.ToInt64();
    }

    private static Dictionary<string, Tensor> Suffixed(IReadOnlyDictionary<string, Tensor> state, int group, string buffer) =>
        state.Where(kv => kv.Key.StartsWith($"{group}.", StringComparison.Ordinal) && kv.Key.EndsWith("." + buffer, StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key[..^(buffer.Length + 1)], kv => kv.Value);

    /// <inheritdoc />
    public override void Dispose()
    {
        foreach (var t in expAvg.SelectMany(x => x).Concat(expAvgSq.SelectMany(x => x))) t.Dispose();
    }
}
