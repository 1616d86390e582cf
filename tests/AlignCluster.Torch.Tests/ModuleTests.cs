using AlignCluster.Torch.NN;

namespace AlignCluster.Torch.Tests;

/// <summary>Module registration, naming, train/eval and state dicts.</summary>
public class ModuleTests
{
    private sealed class Block : Module<Tensor, Tensor>
    {
        [StateName("ln_1")] private readonly LayerNorm norm = new(4);
        private readonly Linear _fc = new(4, 4);                 // auto-named "fc"
        private readonly Dropout dropout = new(0.5);
        public Linear Tied { get; }
        public Block(Linear tied) => Tied = Register("proj", tied);
        public override Tensor Forward(Tensor x) => Tied.Forward(dropout.Forward(_fc.Forward(norm.Forward(x))));
    }

    private sealed class Net : Module<Tensor, Tensor>
    {
        public readonly ModuleList<Block> H;
        public readonly Parameter Scale = new(Tensor.Ones([1]));
        [NotState] public readonly Linear SharedProjection = new(4, 4);
        public Net()
        {
            H = new ModuleList<Block>([new Block(SharedProjection), new Block(SharedProjection)]);
            RegisterBuffer("mask", Tensor.Ones([2, 2], DType.Bool).Tril());
        }
        public override Tensor Forward(Tensor x) => H.Aggregate(x, (h, b) => b.Forward(h)) * Scale;
    }

    [Fact]
    public void Names_follow_fields_and_registrations_and_shared_parameters_are_listed_once()
    {
        using var net = new Net();
        var names = net.NamedParameters().Select(p => p.Name).ToList();
        Assert.Equal(new[] // a module's own parameters come first, then each child's, as in PyTorch
        {
            "Scale", "H.0.proj.weight", "H.0.proj.bias", "H.0.ln_1.weight", "H.0.ln_1.bias", "H.0.fc.weight", "H.0.fc.bias",
            "H.1.ln_1.weight", "H.1.ln_1.bias", "H.1.fc.weight", "H.1.fc.bias",
        }, names);
        var state = net.StateDict();
        Assert.Contains("H.1.proj.weight", state.Keys); // the state dict lists a shared tensor under every name
        Assert.Contains("mask", state.Keys);
        Assert.Equal(4 * 4 + 4 + (4 + 4 + 16 + 4) * 2 + 1, net.ParameterCount());
    }

    [Fact]
    public void Train_and_eval_reach_every_submodule()
    {
        using var net = new Net();
        net.Eval();
        Assert.All(net.NamedModules(), m => Assert.False(m.Module.IsTraining));
        using var scope = DisposeScope.Begin();
        var x = Tensor.Randn([3, 4]);
        Assert.True(net.Forward(x).AllClose(net.Forward(x))); // dropout off: deterministic
        net.Train();
        Assert.All(net.NamedModules(), m => Assert.True(m.Module.IsTraining));
    }

    [Fact]
    public void LoadStateDict_copies_values_and_reports_problems_by_name()
    {
        using var a = new Net();
        using var b = new Net();
        using var scope = DisposeScope.Begin();
        b.LoadStateDict(a.StateDict());
        var x = Tensor.Randn([2, 4]);
        a.Eval(); b.Eval();
        Assert.True(a.Forward(x).ValueEquals(b.Forward(x)));

        var bad = new Dictionary<string, Tensor>(a.StateDict());
        bad.Remove("Scale");
        bad["H.0.fc.weight"] = Tensor.Zeros([3, 3]);
        bad["extra"] = Tensor.Zeros([1]);
        var e = Assert.Throws<TorchException>(() => b.LoadStateDict(bad));
        Assert.Contains("missing key 'Scale'", e.Message);
        Assert.Contains("unexpected key 'extra'", e.Message);
        Assert.Contains("shape mismatch for 'H.0.fc.weight': checkpoint [3, 3], model [4, 4]", e.Message);
    }

    [Fact]
    public void To_converts_parameters_in_place()
    {
        using var net = new Net();
        var weight = net.H[0].Tied.Weight;
        net.To(DType.Float64);
        Assert.Same(weight, net.H[0].Tied.Weight);
        Assert.Equal(DType.Float64, weight.DType);
        Assert.True(weight.RequiresGrad);
        Assert.Equal(DType.Bool, net.StateDict()["mask"].DType); // non-float buffers keep their dtype
    }

    [Fact]
    public void Parameters_leave_dispose_scopes_and_ZeroGrad_clears()
    {
        Linear layer;
        using (DisposeScope.Begin())
        {
            layer = new Linear(3, 2);
            layer.Forward(Tensor.Ones([1, 3])).Sum().Backward();
            Assert.NotNull(layer.Weight.Grad);
        }
        Assert.False(layer.Weight.IsClosed);
        layer.ZeroGrad();
        Assert.Null(layer.Weight.Grad);
        layer.Dispose();
        Assert.True(layer.Weight.IsClosed);
    }
}
