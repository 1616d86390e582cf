namespace AlignCluster.Torch.NN;

/// <summary>y = x·Wᵀ + b with W (out, in), initialized like torch.nn.Linear: U(−1/√in, 1/√in).</summary>
public sealed class Linear : Module<Tensor, Tensor>
{
    /// <summary>(out, in).</summary>
    public Parameter Weight { get; }
    /// <summary>(out), or null without bias.</summary>
    public Parameter? Bias { get; }

    /// <summary>Creates the layer; <paramref name="generator"/> makes the initialization reproducible.</summary>
    public Linear(long inFeatures, long outFeatures, bool bias = true, DType dtype = DType.Float32, Device? device = null, Generator? generator = null)
    {
        var bound = 1.0 / Math.Sqrt(inFeatures);
        Weight = RegisterParameter("weight", new Parameter(Tensor.Empty([outFeatures, inFeatures], dtype, device).Uniform_(-bound, bound, generator)));
        if (bias) Bias = RegisterParameter("bias", new Parameter(Tensor.Empty([outFeatures], dtype, device).Uniform_(-bound, bound, generator)));
    }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => Functional.Linear(input, Weight, Bias); // (…, in) → (…, out)
}

/// <summary>A lookup table of <c>num</c> vectors of size <c>dim</c>, initialized N(0, 1) like torch.nn.Embedding.</summary>
public sealed class Embedding : Module<Tensor, Tensor>
{
    /// <summary>(num, dim).</summary>
    public Parameter Weight { get; }

    /// <summary>Creates the table.</summary>
    public Embedding(long num, long dim, DType dtype = DType.Float32, Device? device = null, Generator? generator = null)
    {
        Weight = RegisterParameter("weight", new Parameter(Tensor.Empty([num, dim], dtype, device).Normal_(0, 1, generator)));
    }

    /// <inheritdoc />
    public override Tensor Forward(Tensor indices) => Functional.Embedding(indices, Weight); // (…) → (…, dim)
}

/// <summary>Layer normalization over the last dim, with weight (ones) and optional bias (zeros).</summary>
public sealed class LayerNorm : Module<Tensor, Tensor>
{
    private readonly long dim;
    /// <summary>The epsilon added to the variance.</summary>
    public double Eps { get; }
    /// <summary>(dim).</summary>
    public Parameter Weight { get; }
    /// <summary>(dim), or null.</summary>
    public Parameter? Bias { get; }

    /// <summary>Creates the layer.</summary>
    public LayerNorm(long dim, double eps = 1e-5, bool bias = true, DType dtype = DType.Float32, Device? device = null)
    {
        this.dim = dim;
        Eps = eps;
        Weight = RegisterParameter("weight", new Parameter(Tensor.Ones([dim], dtype, device)));
        if (bias) Bias = RegisterParameter("bias", new Parameter(Tensor.Zeros([dim], dtype, device)));
    }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => Functional.LayerNorm(input, [dim], Weight, Bias, Eps);
}

/// <summary>RMS normalization over the last dim with a weight (ones), as in Llama.</summary>
public sealed class RmsNorm : Module<Tensor, Tensor>
{
    /// <summary>The epsilon added to the mean square.</summary>
    public double Eps { get; }
    /// <summary>(dim).</summary>
    public Parameter Weight { get; }

    /// <summary>Creates the layer.</summary>
    public RmsNorm(long dim, double eps = 1e-6, DType dtype = DType.Float32, Device? device = null)
    {
        Eps = eps;
        Weight = RegisterParameter("weight", new Parameter(Tensor.Ones([dim], dtype, device)));
    }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => Functional.RmsNorm(input, Weight, Eps);
}

/// <summary>Dropout with probability P while training; identity in eval mode.</summary>
public sealed class Dropout(double p) : Module<Tensor, Tensor>
{
    /// <summary>Probability of zeroing an element.</summary>
    public double P { get; } = p;

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => Functional.Dropout(input, P, IsTraining);
}

/// <summary>An indexed list of submodules, named "0", "1", … in state dicts (like torch.nn.ModuleList).</summary>
public sealed class ModuleList<T> : Module, IReadOnlyList<T> where T : Module
{
    private readonly List<T> items = new();

    /// <summary>Creates the list.</summary>
    public ModuleList(IEnumerable<T>? modules = null)
    {
        foreach (var m in modules ?? []) Add(m);
    }

    /// <summary>Appends a module.</summary>
    public void Add(T module) => items.Add(Register(items.Count.ToString(), module));

    /// <inheritdoc />
    public T this[int index] => items[index];
    /// <inheritdoc />
    public int Count => items.Count;
    /// <inheritdoc />
    public IEnumerator<T> GetEnumerator() => items.GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
