using AlignCluster.Models.Nn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using LayerNorm = AlignCluster.Models.Nn.LayerNorm;

namespace AlignCluster.Models;

// Fields carry Hugging Face's state-dict names (c_attn, ln_1, …): TorchSharp registers fields under their names.
#pragma warning disable IDE1006

/// <summary>
/// GPT-2 (Radford et al. 2019) as in nanoGPT and HF's GPT2LMHeadModel: learned token + position embeddings,
/// pre-LayerNorm blocks of causal self-attention and a GELU(tanh) MLP, a final LayerNorm, and an LM head tied to
/// the token embedding unless the config unties it. Weight names and Conv1D layouts are HF's.
/// Shapes: B batch, T new tokens, S cached + new tokens, C hidden, H heads, D = C/H.
/// </summary>
public sealed class Gpt2Model : CausalLM
{
    private readonly Gpt2Trunk transformer;
    private readonly Dense? lm_head;

    internal Gpt2Model(ModelConfig c, ScalarType dtype, Device device)
        : base(c, dtype, device)
    {
        transformer = new Gpt2Trunk(c, dtype, device);
        if (!c.TieWordEmbeddings)
            lm_head = new Dense(c.HiddenSize, c.VocabSize, hasBias: false, dtype, device);
        RegisterComponents();
    }

    public override Tensor Hidden(Tensor inputIds, ForwardContext ctx) => transformer.Forward(inputIds, ctx);

    public override Tensor Logits(Tensor hidden) =>
        lm_head?.call(hidden) ?? torch.nn.functional.linear(hidden, transformer.wte.Weight); // (…, C) → (…, V)

    public override void InitializeWeights(Generator g)
    {
        // nanoGPT / GPT-2 paper: N(0, 0.02), residual projections scaled by 1/√(2·layers).
        double residualStd = Init.Std / Math.Sqrt(2.0 * Config.NumLayers);
        Init.Normal(transformer.wte.Weight, Init.Std, g);
        Init.Normal(transformer.wpe.Weight, Init.Std / 2, g);
        foreach (var block in transformer.h)
        {
            block.attn.c_attn.Initialize(Init.Std, g);
            block.attn.c_proj.Initialize(residualStd, g);
            block.mlp.c_fc.Initialize(Init.Std, g);
            block.mlp.c_proj.Initialize(residualStd, g);
        }
        lm_head?.Initialize(Init.Std, g);
    }
}

/// <summary>HF's GPT2Model: embeddings, blocks, final norm ("transformer.*").</summary>
internal sealed class Gpt2Trunk : Trunk
{
    internal readonly EmbeddingTable wte,
        wpe;
    internal readonly ModuleList<Gpt2Block> h;
    private readonly LayerNorm ln_f;

    public Gpt2Trunk(ModelConfig c, ScalarType dtype, Device device)
        : base("GPT2Model")
    {
        wte = new EmbeddingTable(c.VocabSize, c.HiddenSize, dtype, device);
        wpe = new EmbeddingTable(c.MaxPositions, c.HiddenSize, dtype, device);
        h = new ModuleList<Gpt2Block>(
            Enumerable.Range(0, c.NumLayers).Select(i => new Gpt2Block(c, i, dtype, device)).ToArray()
        );
        ln_f = new LayerNorm(c.HiddenSize, c.NormEps, dtype, device);
        RegisterComponents();
    }

    public override Tensor Forward(Tensor ids, ForwardContext ctx)
    {
        var x = wte.call(ids) + wpe.call(ctx.Positions); // (B, T, C)
        foreach (var block in h)
        {
            var next = block.Forward(x, ctx); // (B, T, C)
            x.Dispose();
            x = next;
        }
        using (x)
            return ln_f.call(x); // (B, T, C)
    }
}

internal sealed class Gpt2Block : nn.Module
{
    private readonly LayerNorm ln_1,
        ln_2;
    internal readonly Gpt2Attention attn;
    internal readonly Gpt2Mlp mlp;

    public Gpt2Block(ModelConfig c, int layer, ScalarType dtype, Device device)
        : base("GPT2Block")
    {
        ln_1 = new LayerNorm(c.HiddenSize, c.NormEps, dtype, device);
        attn = new Gpt2Attention(c, layer, dtype, device);
        ln_2 = new LayerNorm(c.HiddenSize, c.NormEps, dtype, device);
        mlp = new Gpt2Mlp(c, dtype, device);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x, ForwardContext ctx)
    {
        using var scope = torch.NewDisposeScope();
        x = x + attn.Forward(ln_1.call(x), ctx); // (B, T, C)
        x = x + mlp.call(ln_2.call(x)); // (B, T, C)
        return x.MoveToOuterDisposeScope();
    }
}

internal sealed class Gpt2Attention : nn.Module
{
    private readonly int _layer;
    private readonly long _heads,
        _headDim;
    internal readonly Conv1D c_attn,
        c_proj;

    public Gpt2Attention(ModelConfig c, int layer, ScalarType dtype, Device device)
        : base("GPT2Attention")
    {
        _layer = layer;
        _heads = c.NumHeads;
        _headDim = c.HiddenSize / c.NumHeads;
        c_attn = new Conv1D(c.HiddenSize, 3L * c.HiddenSize, dtype, device);
        c_proj = new Conv1D(c.HiddenSize, c.HiddenSize, dtype, device);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x, ForwardContext ctx)
    {
        var qkv = c_attn.call(x).chunk(3, -1); // 3 × (B, T, C)
        var q = AttentionOps.SplitHeads(qkv[0], _heads, _headDim); // (B, H, T, D)
        var k = AttentionOps.SplitHeads(qkv[1], _heads, _headDim); // (B, H, T, D)
        var v = AttentionOps.SplitHeads(qkv[2], _heads, _headDim); // (B, H, T, D)
        var y = AttentionOps.Attend(q, k, v, _layer, ctx); // (B, H, T, D)
        return c_proj.call(AttentionOps.MergeHeads(y)); // (B, T, C)
    }
}

internal sealed class Gpt2Mlp : nn.Module<Tensor, Tensor>
{
    internal readonly Conv1D c_fc,
        c_proj;

    public Gpt2Mlp(ModelConfig c, ScalarType dtype, Device device)
        : base("GPT2MLP")
    {
        c_fc = new Conv1D(c.HiddenSize, c.IntermediateSize, dtype, device);
        c_proj = new Conv1D(c.IntermediateSize, c.HiddenSize, dtype, device);
        RegisterComponents();
    }

    // (B, T, C) → (B, T, 4C) → (B, T, C); GPT-2's "gelu_new" is the tanh approximation.
    public override Tensor forward(Tensor x) =>
        c_proj.call(torch.nn.functional.gelu(c_fc.call(x), GELU.Approximate.tanh));
}
