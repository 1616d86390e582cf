using AlignCluster.Torch.NN;
using F = AlignCluster.Torch.NN.Functional;

namespace AlignCluster.Torch.Tests;

/// <summary>Every differentiable op's autograd gradient against central finite differences (float64).</summary>
public class GradientTests
{
    private static Tensor In(ulong seed, params long[] shape) => GradCheck.Input(shape, seed);
    private static Tensor Pos(ulong seed, params long[] shape) => GradCheck.Input(shape, seed, 0.5, 2.0);
    private static Tensor Idx(long[] values, params long[] shape) => Tensor.From<long>(values, shape);

    /// <summary>name → (function of the inputs, inputs). Inputs avoid kinks (relu/abs at 0, max ties).</summary>
    private static readonly Dictionary<string, (Func<Tensor[], Tensor> F, Func<Tensor[]> Inputs)> Cases = new()
    {
        ["add"] = (x => x[0] + x[1], () => [In(1, 2, 3), In(2, 3)]),
        ["sub"] = (x => x[0] - x[1], () => [In(1, 2, 3), In(2, 2, 1)]),
        ["mul"] = (x => x[0] * x[1], () => [In(1, 2, 3), In(2, 2, 3)]),
        ["div"] = (x => x[0] / x[1], () => [In(1, 2, 3), Pos(2, 2, 3)]),
        ["scalar ops"] = (x => (2.0 - x[0]) * 3.0 / 4.0 + 1.0 / x[0], () => [Pos(1, 2, 3)]),
        ["pow"] = (x => x[0].Pow(x[1]), () => [Pos(1, 2, 3), In(2, 2, 3)]),
        ["pow scalar"] = (x => x[0].Pow(2.5), () => [Pos(1, 2, 3)]),
        ["neg"] = (x => -x[0], () => [In(1, 4)]),
        ["exp"] = (x => x[0].Exp(), () => [In(1, 2, 3)]),
        ["log"] = (x => x[0].Log(), () => [Pos(1, 2, 3)]),
        ["log1p"] = (x => x[0].Log1p(), () => [Pos(1, 2, 3)]),
        ["expm1"] = (x => x[0].Expm1(), () => [In(1, 2, 3)]),
        ["sigmoid"] = (x => x[0].Sigmoid(), () => [In(1, 2, 3)]),
        ["logsigmoid"] = (x => x[0].LogSigmoid(), () => [In(1, 2, 3)]),
        ["softplus"] = (x => x[0].Softplus(), () => [In(1, 2, 3)]),
        ["softplus beta"] = (x => x[0].Softplus(beta: 2), () => [In(1, 2, 3)]),
        ["tanh"] = (x => x[0].Tanh(), () => [In(1, 2, 3)]),
        ["gelu"] = (x => x[0].Gelu(), () => [In(1, 2, 3)]),
        ["gelu tanh"] = (x => x[0].Gelu(tanhApproximation: true), () => [In(1, 2, 3)]),
        ["silu"] = (x => x[0].Silu(), () => [In(1, 2, 3)]),
        ["relu"] = (x => x[0].Relu(), () => [In(3, 2, 3)]),
        ["abs"] = (x => x[0].Abs(), () => [In(3, 2, 3)]),
        ["sqrt"] = (x => x[0].Sqrt(), () => [Pos(1, 2, 3)]),
        ["rsqrt"] = (x => x[0].Rsqrt(), () => [Pos(1, 2, 3)]),
        ["square"] = (x => x[0].Square(), () => [In(1, 2, 3)]),
        ["sin cos"] = (x => x[0].Sin() * x[0].Cos(), () => [In(1, 2, 3)]),
        ["reciprocal"] = (x => x[0].Reciprocal(), () => [Pos(1, 2, 3)]),
        ["erf"] = (x => x[0].Erf(), () => [In(1, 2, 3)]),
        ["maximum minimum"] = (x => x[0].Maximum(x[1]) + x[0].Minimum(x[1]) * 2, () => [In(1, 2, 3), In(2, 2, 3)]),
        ["clamp"] = (x => x[0].Clamp(-0.5, 0.7), () => [In(5, 3, 4)]),
        ["softmax"] = (x => x[0].Softmax(-1), () => [In(1, 2, 4)]),
        ["log_softmax"] = (x => x[0].LogSoftmax(1), () => [In(1, 2, 4, 3)]),
        ["logsumexp"] = (x => x[0].LogSumExp(-1), () => [In(1, 2, 4)]),
        ["logsumexp all"] = (x => x[0].LogSumExp(), () => [In(1, 2, 4)]),
        ["sum"] = (x => x[0].Sum(1) + x[0].Sum(), () => [In(1, 2, 3)]),
        ["sum dims"] = (x => x[0].Sum([0, 2], keepDim: true), () => [In(1, 2, 3, 2)]),
        ["mean"] = (x => x[0].Mean(0) * x[0].Mean(), () => [In(1, 2, 3)]),
        ["max dim"] = (x => x[0].Max(1), () => [In(1, 3, 4)]),
        ["min dim"] = (x => x[0].Min(0, keepDim: true), () => [In(1, 3, 4)]),
        ["max with indices"] = (x => x[0].MaxWithIndices(-1).Values, () => [In(1, 3, 4)]),
        ["max all"] = (x => x[0].Max() - x[0].Min(), () => [In(1, 3, 4)]),
        ["prod"] = (x => x[0].Prod(1), () => [Pos(1, 2, 3)]),
        ["var std"] = (x => x[0].Var(1).Unsqueeze(1) + x[0].Std(0), () => [In(1, 3, 4)]),
        ["norm"] = (x => x[0].Norm(-1) + x[0].Norm(), () => [In(1, 3, 4)]),
        ["cumsum"] = (x => x[0].CumSum(1), () => [In(1, 2, 4)]),
        ["topk values"] = (x => x[0].TopK(2).Values, () => [In(1, 2, 5)]),
        ["sort values"] = (x => x[0].Sort(descending: true).Values, () => [In(1, 2, 5)]),
        ["gather"] = (x => x[0].Gather(1, Idx([0, 2, 2, 1], 2, 2)), () => [In(1, 2, 3)]),
        ["scatter"] = (x => x[0].Scatter(1, Idx([2, 0], 2, 1), x[1]), () => [In(1, 2, 3), In(2, 2, 1)]),
        ["index_select"] = (x => x[0].IndexSelect(0, Idx([2, 0, 2], 3)), () => [In(1, 3, 2)]),
        ["embedding"] = (x => F.Embedding(Idx([1, 3, 1, 0], 2, 2), x[0]), () => [In(1, 4, 3)]),
        ["masked_fill"] = (x => x[0].MaskedFill(Tensor.From<bool>([true, false, false, true, false, true], 2, 3), 0.5), () => [In(1, 2, 3)]),
        ["where"] = (x => Tensor.Where(x[0].Gt(0), x[0], x[1]), () => [In(1, 2, 3), In(2, 2, 3)]),
        ["triu tril"] = (x => x[0].Triu(1) * 2 + x[0].Tril(), () => [In(1, 3, 3)]),
        ["cat"] = (x => Tensor.Cat([x[0], x[1]], 1), () => [In(1, 2, 3), In(2, 2, 2)]),
        ["stack"] = (x => Tensor.Stack([x[0], x[1]], 0), () => [In(1, 2, 3), In(2, 2, 3)]),
        ["split"] = (x => x[0].Split(2, 1)[1] * 3, () => [In(1, 2, 5)]),
        ["chunk"] = (x => x[0].Chunk(2, 0)[0] - x[0].Chunk(2, 0)[1], () => [In(1, 4, 2)]),
        ["view reshape"] = (x => x[0].View(3, 2) * x[0].Reshape(-1, 2), () => [In(1, 2, 3)]),
        ["transpose permute"] = (x => x[0].Transpose(0, 2).Contiguous() + x[0].Permute(2, 1, 0), () => [In(1, 2, 3, 2)]),
        ["expand"] = (x => x[0].Expand(3, -1, 4), () => [In(1, 1, 2, 4)]),
        ["unsqueeze squeeze"] = (x => x[0].Unsqueeze(1).Squeeze(1) * x[0].Unsqueeze(0).Squeeze(), () => [In(1, 3)]),
        ["flatten repeat"] = (x => x[0].Flatten().Repeat(2), () => [In(1, 2, 2)]),
        ["narrow select slice"] = (x => x[0].Narrow(1, 1, 2).Select(0, 1) + x[0].Slice(1, 0, 4, 2).Select(0, 0), () => [In(1, 2, 4)]),
        ["pad"] = (x => x[0].Pad([1, 2], 0.5), () => [In(1, 2, 3)]),
        ["clone"] = (x => x[0].Clone() * x[0], () => [In(1, 2, 3)]),
        ["matmul"] = (x => x[0].MatMul(x[1]), () => [In(1, 2, 3, 4), In(2, 4, 2)]),
        ["mm"] = (x => x[0].Mm(x[1]), () => [In(1, 3, 4), In(2, 4, 2)]),
        ["bmm"] = (x => x[0].Bmm(x[1]), () => [In(1, 2, 3, 4), In(2, 2, 4, 2)]),
        ["linear"] = (x => F.Linear(x[0], x[1], x[2]), () => [In(1, 2, 3), In(2, 4, 3), In(3, 4)]),
        ["layer_norm"] = (x => F.LayerNorm(x[0], [4], x[1], x[2]), () => [In(1, 3, 4), In(2, 4), In(3, 4)]),
        ["rms_norm"] = (x => F.RmsNorm(x[0], x[1]), () => [In(1, 3, 4), In(2, 4)]),
        ["attention"] = (x => F.ScaledDotProductAttention(x[0], x[1], x[2]), () => [In(1, 2, 3, 4), In(2, 2, 5, 4), In(3, 2, 5, 4)]),
        ["attention causal"] = (x => F.ScaledDotProductAttention(x[0], x[1], x[2], isCausal: true), () => [In(1, 1, 2, 4, 3), In(2, 1, 2, 4, 3), In(3, 1, 2, 4, 3)]),
        ["attention bool mask"] = (x => F.ScaledDotProductAttention(x[0], x[1], x[2], Tensor.From<bool>([true, true, false, true, false, true], 2, 3)), () => [In(1, 2, 3), In(2, 3, 3), In(3, 3, 3)]),
        ["attention float mask"] = (x => F.ScaledDotProductAttention(x[0], x[1], x[2], x[3]), () => [In(1, 2, 3), In(2, 3, 3), In(3, 3, 3), In(4, 2, 3)]),
        ["cross_entropy"] = (x => F.CrossEntropy(x[0], Idx([2, 0, -100], 3)), () => [In(1, 3, 4)]),
        ["cross_entropy sum smoothing"] = (x => F.CrossEntropy(x[0], Idx([2, 0, 1], 3), Reduction.Sum, labelSmoothing: 0.1), () => [In(1, 3, 4)]),
        ["mse_loss"] = (x => F.MseLoss(x[0], x[1]), () => [In(1, 2, 3), In(2, 2, 3)]),
        ["dropout"] = (x => F.Dropout(x[0], 0.3, training: true), () => [In(1, 4, 5)]),
        ["min with indices"] = (x => x[0].MinWithIndices(0).Values, () => [In(1, 3, 4)]),
        ["where scalar"] = (x => Tensor.Where(x[0].Lt(0), x[0], 0.25), () => [In(1, 2, 3)]),
        ["in-place arithmetic"] = (x => (x[0] * 1.0).Add_(x[1]).Mul_(x[1]).Sub_(x[0]).Mul_(3.0).Add_(1.0).Div_(2.0), () => [In(1, 2, 3), In(2, 2, 3)]),
        ["copy_ into a view"] = (x => { var y = Tensor.Zeros([2, 4], DType.Float64); y.Narrow(1, 1, 2).Copy_(x[0]); return y * y; }, () => [In(1, 2, 2)]),
        ["linear without bias"] = (x => F.Linear(x[0], x[1]), () => [In(1, 2, 3), In(2, 4, 3)]),
        ["attention composed"] = (x => F.ComposedScaledDotProductAttention(x[0], x[1], x[2], isCausal: true), () => [In(1, 2, 4, 3), In(2, 2, 4, 3), In(3, 2, 4, 3)]),
        ["attention dropout"] = (x => F.ScaledDotProductAttention(x[0], x[1], x[2], dropoutP: 0.2), () => [In(1, 3, 4), In(2, 5, 4), In(3, 5, 4)]),
        ["to float32 and back"] = (x => (x[0].To(DType.Float32) * 1.0).To(DType.Float64) + x[0], () => [In(1, 2)]),
    };

    public static TheoryData<string> Names => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public void Gradient_matches_finite_differences(string name)
    {
        var (f, inputs) = Cases[name];
        using var scope = DisposeScope.Begin();
        // A cast through float32 loses precision; its finite differences are only good to ~1e-3.
        var loose = name.Contains("float32");
        GradCheck.Check(f, inputs(), atol: loose ? 1e-3 : 1e-6, rtol: loose ? 1e-3 : 1e-4);
    }
}
