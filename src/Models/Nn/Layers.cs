using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AlignCluster.Models.Nn;

/// <summary>
/// Weights are created uninitialized (loading overwrites them anyway), on their device and in their dtype (TorchSharp's
/// <c>Module.to()</c> replaces Parameter objects, so we never move a built model); <see cref="Init"/> gives fresh
/// models the GPT-2/Llama initialization: N(0, 0.02) for matrices and embeddings, zero biases (norms start at one).
/// </summary>
internal static class Init
{
    public const double Std = 0.02;

    public static void Normal(Tensor t, double std, Generator generator)
    {
        using var noGrad = torch.no_grad();
        t.normal_(0, std, generator);
    }

    public static void Zero(Tensor? t)
    {
        if (t is null)
            return;
        using var noGrad = torch.no_grad();
        t.zero_();
    }

    /// <summary>A parameter that survives any open dispose scope (a scope would otherwise free it with
    /// itself).</summary>
    public static Parameter Empty(long[] shape, ScalarType dtype, Device device)
    {
        var p = new Parameter(torch.empty(shape, dtype: dtype, device: device));
        p.DetachFromDisposeScope();
        return p;
    }
}

/// <summary>HF's GPT-2 "Conv1D": a linear layer whose weight is stored transposed, (in, out). y = x·W + b.</summary>
internal sealed class Conv1D : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;

    public Conv1D(long inFeatures, long outFeatures, ScalarType dtype, Device device)
        : base("Conv1D")
    {
        weight = Init.Empty([inFeatures, outFeatures], dtype, device);
        bias = Init.Empty([outFeatures], dtype, device);
        RegisterComponents();
    }

    // (…, in) → (…, out); linear() takes (out, in), so pass the transposed view.
    public override Tensor forward(Tensor x)
    {
        using var wt = weight.t();
        return torch.nn.functional.linear(x, wt, bias);
    }

    public void Initialize(double std, Generator g)
    {
        Init.Normal(weight, std, g);
        Init.Zero(bias);
    }
}

/// <summary>A linear layer with a (out, in) weight as HF's nn.Linear stores it, created uninitialized.</summary>
internal sealed class Dense : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter? bias;

    public Dense(long inFeatures, long outFeatures, bool hasBias, ScalarType dtype, Device device)
        : base("Dense")
    {
        weight = Init.Empty([outFeatures, inFeatures], dtype, device);
        if (hasBias)
            bias = Init.Empty([outFeatures], dtype, device);
        RegisterComponents();
    }

    public Parameter Weight => weight;

    public override Tensor forward(Tensor x) => torch.nn.functional.linear(x, weight, bias); // (…, in) → (…, out)

    public void Initialize(double std, Generator g)
    {
        Init.Normal(weight, std, g);
        Init.Zero(bias);
    }
}

/// <summary>A token or position embedding table (num, dim).</summary>
internal sealed class EmbeddingTable : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;

    public EmbeddingTable(long num, long dim, ScalarType dtype, Device device)
        : base("Embedding")
    {
        weight = Init.Empty([num, dim], dtype, device);
        RegisterComponents();
    }

    public Parameter Weight => weight;

    public override Tensor forward(Tensor ids) => TorchGaps.Embedding(ids, weight); // (…) → (…, dim)
}

/// <summary>LayerNorm over the last dim with weight (ones) and bias (zeros), built on its device and dtype.</summary>
internal sealed class LayerNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;
    private readonly long[] _shape;
    private readonly double _eps;

    public LayerNorm(long dim, double eps, ScalarType dtype, Device device)
        : base("LayerNorm")
    {
        (_shape, _eps) = ([dim], eps);
        weight = new Parameter(torch.ones(dim, dtype: dtype, device: device));
        bias = new Parameter(torch.zeros(dim, dtype: dtype, device: device));
        weight.DetachFromDisposeScope();
        bias.DetachFromDisposeScope();
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => torch.nn.functional.layer_norm(x, _shape, weight, bias, _eps); // (…, C)
}
