using AlignCluster.Torch;
using AlignCluster.Torch.NN;

namespace AlignCluster.Models.Nn;

/// <summary>
/// Weights are created uninitialized (loading overwrites them anyway); <see cref="Init"/> gives fresh models the
/// GPT-2/Llama initialization: N(0, 0.02) for matrices and embeddings, zero biases (norms start at one).
/// </summary>
internal static class Init
{
    public const double Std = 0.02;

    public static void Normal(Tensor t, double std, Generator generator)
    {
        using var noGrad = Autograd.NoGrad();
        t.Normal_(0, std, generator);
    }

    public static void Zero(Tensor? t)
    {
        if (t is null) return;
        using var noGrad = Autograd.NoGrad();
        t.Zero_();
    }
}

/// <summary>HF's GPT-2 "Conv1D": a linear layer whose weight is stored transposed, (in, out). y = x·W + b.</summary>
internal sealed class Conv1D : Module<Tensor, Tensor>
{
    public Parameter Weight { get; }
    public Parameter Bias { get; }

    public Conv1D(long inFeatures, long outFeatures, DType dtype)
    {
        Weight = RegisterParameter("weight", new Parameter(Tensor.Empty([inFeatures, outFeatures], dtype)));
        Bias = RegisterParameter("bias", new Parameter(Tensor.Empty([outFeatures], dtype)));
    }

    // (…, in) → (…, out); linear() takes (out, in), so pass the transposed view.
    public override Tensor Forward(Tensor x)
    {
        using var wt = Weight.T();
        return Functional.Linear(x, wt, Bias);
    }

    public void Initialize(double std, Generator g)
    {
        Init.Normal(Weight, std, g);
        Init.Zero(Bias);
    }
}

/// <summary>A linear layer with a (out, in) weight as HF's nn.Linear stores it.</summary>
internal sealed class Dense : Module<Tensor, Tensor>
{
    public Parameter Weight { get; }
    public Parameter? Bias { get; }

    public Dense(long inFeatures, long outFeatures, bool bias, DType dtype)
    {
        Weight = RegisterParameter("weight", new Parameter(Tensor.Empty([outFeatures, inFeatures], dtype)));
        if (bias) Bias = RegisterParameter("bias", new Parameter(Tensor.Empty([outFeatures], dtype)));
    }

    public override Tensor Forward(Tensor x) => Functional.Linear(x, Weight, Bias); // (…, in) → (…, out)

    public void Initialize(double std, Generator g)
    {
        Init.Normal(Weight, std, g);
        Init.Zero(Bias);
    }
}

/// <summary>A token or position embedding table (num, dim).</summary>
internal sealed class EmbeddingTable : Module<Tensor, Tensor>
{
    public Parameter Weight { get; }

    public EmbeddingTable(long num, long dim, DType dtype) =>
        Weight = RegisterParameter("weight", new Parameter(Tensor.Empty([num, dim], dtype)));

    public override Tensor Forward(Tensor ids) => Functional.Embedding(ids, Weight); // (…) → (…, dim)
}
