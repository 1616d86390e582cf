using AlignCluster.Torch.NN;
using AlignCluster.Torch.Native;

namespace AlignCluster.Torch.Optim;

/// <summary>
/// Stochastic gradient descent as torch.optim.SGD: g ← g + wd·p; with momentum μ, b ← μb + (1−dampening)g
/// (b ← g on the first step) and g ← b (or g + μb with Nesterov); p ← p − lr·g.
/// </summary>
public sealed class Sgd : Optimizer
{
    private readonly double momentum, dampening, weightDecay;
    private readonly bool nesterov;
    private readonly Tensor[][]? buffers;

    /// <summary>SGD over one group of parameters.</summary>
    public Sgd(IEnumerable<Parameter> parameters, double learningRate, double momentum = 0, double dampening = 0,
        double weightDecay = 0, bool nesterov = false)
        : this([new ParamGroup(parameters)], learningRate, momentum, dampening, weightDecay, nesterov) { }

    /// <summary>SGD over several groups.</summary>
    public Sgd(IEnumerable<ParamGroup> groups, double learningRate, double momentum = 0, double dampening = 0,
        double weightDecay = 0, bool nesterov = false) : base(groups, learningRate)
    {
        if (nesterov && (momentum <= 0 || dampening != 0)) throw new ArgumentException("Nesterov momentum requires momentum > 0 and zero dampening");
        (this.momentum, this.dampening, this.weightDecay, this.nesterov) = (momentum, dampening, weightDecay, nesterov);
        if (momentum != 0) buffers = Groups.Select(g => ZerosLike(g.Parameters)).ToArray();
    }

    /// <inheritdoc />
    public override unsafe void Step()
    {
        StepCount++;
        for (var gi = 0; gi < Groups.Count; gi++)
        {
            var group = Groups[gi];
            var p = Tensor.Handles(group.Parameters);
            var b = buffers is null ? new nint[p.Length] : Tensor.Handles(buffers[gi]);
            fixed (nint* pp = p, bp = b)
                NativeMethods.Check(NativeMethods.act_sgd_step(pp, bp, p.Length, group.LearningRate ?? LearningRate, momentum,
                    dampening, group.WeightDecay ?? weightDecay, nesterov ? 1 : 0, StepCount == 1 ? 1 : 0));
            GC.KeepAlive(group);
        }
    }

    /// <inheritdoc />
    public override Dictionary<string, Tensor> StateDict()
    {
        var state = new Dictionary<string, Tensor>();
        if (buffers is not null)
            for (var gi = 0; gi < Groups.Count; gi++)
                for (var i = 0; i < buffers[gi].Length; i++) state[$"{gi}.{i}.momentum_buffer"] = buffers[gi][i];
        state["step"] = Tensor.FromScalar(StepCount, DType.Int64);
        return state;
    }

    /// <inheritdoc />
    public override void LoadStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        if (!state.TryGetValue("step", out var step)) throw new TorchException("optimizer state has no 'step'");
        if (buffers is not null)
            for (var gi = 0; gi < Groups.Count; gi++)
            {
                var prefix = $"{gi}.";
                var mine = state.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal) && kv.Key.EndsWith(".momentum_buffer", StringComparison.Ordinal))
                    .ToDictionary(kv => kv.Key[..^".momentum_buffer".Length], kv => kv.Value);
                LoadBuffers(mine, $"{gi}", buffers[gi]);
            }
        StepCount = step.ToInt64();
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        if (buffers is null) return;
        foreach (var t in buffers.SelectMany(x => x)) t.Dispose();
    }
}
