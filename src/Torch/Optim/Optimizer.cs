using AlignCluster.Torch.NN;

namespace AlignCluster.Torch.Optim;

/// <summary>A set of parameters sharing hyper-parameters (e.g. "decay" and "no decay" groups).</summary>
public sealed class ParamGroup(IEnumerable<Parameter> parameters, double? learningRate = null, double? weightDecay = null)
{
    /// <summary>The parameters of this group.</summary>
    public IReadOnlyList<Parameter> Parameters { get; } = parameters.ToArray();
    /// <summary>This group's learning rate (null: the optimizer's).</summary>
    public double? LearningRate { get; set; } = learningRate;
    /// <summary>This group's weight decay (null: the optimizer's).</summary>
    public double? WeightDecay { get; set; } = weightDecay;
}

/// <summary>
/// Base of the optimizers. The update runs in libtorch, one native call per parameter group, under no-grad.
/// Optimizer state (moments, momentum buffers) is owned here and exposed by <see cref="StateDict"/> for checkpoints.
/// </summary>
public abstract class Optimizer : IDisposable
{
    /// <summary>The parameter groups.</summary>
    public IReadOnlyList<ParamGroup> Groups { get; }

    /// <summary>Steps taken so far.</summary>
    public long StepCount { get; protected set; }

    /// <summary>The default learning rate; setting it (e.g. from a schedule) also sets every group's.</summary>
    public double LearningRate
    {
        get => learningRate;
        set
        {
            learningRate = value;
            foreach (var g in Groups) g.LearningRate = value;
        }
    }
    private double learningRate;

    /// <summary>Creates the optimizer over <paramref name="groups"/>.</summary>
    protected Optimizer(IEnumerable<ParamGroup> groups, double learningRate)
    {
        Groups = groups.ToArray();
        this.learningRate = learningRate;
        var all = Groups.SelectMany(g => g.Parameters).ToList();
        if (all.Count != all.Distinct(ReferenceEqualityComparer.Instance).Count())
            throw new ArgumentException("a parameter appears in more than one group (or twice in one)");
    }

    /// <summary>Applies one update from the current gradients (parameters without a gradient are skipped).</summary>
    public abstract void Step();

    /// <summary>Clears every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var g in Groups)
            foreach (var p in g.Parameters) p.Grad = null;
    }

    /// <summary>
    /// The optimizer state by name ("{group}.{index}.{buffer}", e.g. "0.3.exp_avg"), the live tensors, plus
    /// the step count as a 0-dim Int64 tensor under "step" (a new tensor: dispose it).
    /// </summary>
    public abstract Dictionary<string, Tensor> StateDict();

    /// <summary>Restores state saved by <see cref="StateDict"/> (same groups and parameter shapes).</summary>
    public abstract void LoadStateDict(IReadOnlyDictionary<string, Tensor> state);

    /// <summary>Frees the optimizer state.</summary>
    public abstract void Dispose();

    /// <summary>A zero tensor shaped like each parameter, owned by the optimizer (outside dispose scopes).</summary>
    private protected static Tensor[] ZerosLike(IReadOnlyList<Parameter> parameters)
    {
        using var noGrad = Autograd.NoGrad();
        return parameters.Select(p => Tensor.ZerosLike(p).DetachFromScope()).ToArray();
    }

    private protected static void LoadBuffers(IReadOnlyDictionary<string, Tensor> state, string prefix, Tensor[] buffers)
    {
        using var noGrad = Autograd.NoGrad();
        for (var i = 0; i < buffers.Length; i++)
        {
            var key = $"{prefix}.{i}";
            if (!state.TryGetValue(key, out var source)) throw new TorchException($"optimizer state has no '{key}'");
            buffers[i].Copy_(source);
        }
    }
}
