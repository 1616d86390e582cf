using AlignCluster.Models.Nn;
using AlignCluster.Torch;
using AlignCluster.Torch.NN;

namespace AlignCluster.Models;

/// <summary>
/// GPT-2 (Radford et al. 2019) as in nanoGPT and HF's GPT2LMHeadModel: learned token + position embeddings,
/// pre-LayerNorm blocks of causal self-attention and a GELU(tanh) MLP, a final LayerNorm, and an LM head tied to
/// the token embedding unless the config unties it. Weight names and Conv1D layouts are HF's.
/// Shapes: B batch, T new tokens, S cached + new tokens, C hidden, H heads, D = C/H.
/// </summary>
public sealed class Gpt2Model : CausalLM
{
    private readonly Gpt2Trunk _transformer;
    private readonly Dense? _lmHead;

    internal Gpt2Model(ModelConfig c, DType dtype) : base(c, dtype)
    {
        _transformer = Register("transformer", new Gpt2Trunk(c, dtype));
        if (!c.TieWordEmbeddings) _lmHead = Register("lm_head", new Dense(c.HiddenSize, c.VocabSize, bias: false, dtype));
    }

    public override Tensor Hidden(Tensor inputIds, ForwardContext ctx) => _transformer.Forward(inputIds, ctx);

    public override Tensor Logits(Tensor hidden) =>
        _lmHead?.Forward(hidden) ?? Functional.Linear(hidden, _transformer.Wte.Weight); // (…, C) → (…, V)

    public override void InitializeWeights(Generator g)
    {
        // nanoGPT / GPT-2 paper: N(0, 0.02), residual projections scaled by 1/√(2·layers).
        double residualStd = Init.Std / Math.Sqrt(2.0 * Config.NumLayers);
        Init.Normal(_transformer.Wte.Weight, Init.Std, g);
        Init.Normal(_transformer.Wpe.Weight, Init.Std / 2, g);
        foreach (var block in _transformer.Blocks)
        {
            block.Attn.CAttn.Initialize(Init.Std, g);
            block.Attn.CProj.Initialize(residualStd, g);
            block.Mlp.CFc.Initialize(Init.Std, g);
            block.Mlp.CProj.Initialize(residualStd, g);
        }
        _lmHead?.Initialize(Init.Std, g);
    }
}

/// <summary>HF's GPT2Model: embeddings, blocks, final norm ("transformer.*").</summary>
internal sealed class Gpt2Trunk : Trunk
{
    public EmbeddingTable Wte { get; }
    public EmbeddingTable Wpe { get; }
    public ModuleList<Gpt2Block> Blocks { get; }
    private readonly LayerNorm _lnF;

    public Gpt2Trunk(ModelConfig c, DType dtype)
    {
        Wte = Register("wte", new EmbeddingTable(c.VocabSize, c.HiddenSize, dtype));
        Wpe = Register("wpe", new EmbeddingTable(c.MaxPositions, c.HiddenSize, dtype));
        Blocks = Register("h", new ModuleList<Gpt2Block>(Enumerable.Range(0, c.NumLayers).Select(i => new Gpt2Block(c, i, dtype))));
        _lnF = Register("ln_f", new LayerNorm(c.HiddenSize, c.NormEps, dtype: dtype));
    }

    public override Tensor Forward(Tensor ids, ForwardContext ctx)
    {
        var x = Wte.Forward(ids).Add(Wpe.Forward(ctx.Positions));   // (B, T, C)
        foreach (var block in Blocks)
        {
            var next = block.Forward(x, ctx);                        // (B, T, C)
            x.Dispose();
            x = next;
        }
        using (x) return _lnF.Forward(x);                            // (B, T, C)
    }
}

internal sealed class Gpt2Block : Module
{
    private readonly LayerNorm _ln1, _ln2;
    public Gpt2Attention Attn { get; }
    public Gpt2Mlp Mlp { get; }

    public Gpt2Block(ModelConfig c, int layer, DType dtype)
    {
        _ln1 = Register("ln_1", new LayerNorm(c.HiddenSize, c.NormEps, dtype: dtype));
        Attn = Register("attn", new Gpt2Attention(c, layer, dtype));
        _ln2 = Register("ln_2", new LayerNorm(c.HiddenSize, c.NormEps, dtype: dtype));
        Mlp = Register("mlp", new Gpt2Mlp(c, dtype));
    }

    public Tensor Forward(Tensor x, ForwardContext ctx)
    {
        using var scope = DisposeScope.Begin();
        x = x.Add(Attn.Forward(_ln1.Forward(x), ctx));   // (B, T, C)
        x = x.Add(Mlp.Forward(_ln2.Forward(x)));         // (B, T, C)
        return scope.MoveOut(x);
    }
}

internal sealed class Gpt2Attention : Module
{
    private readonly int _layer;
    private readonly long _heads, _headDim;
    public Conv1D CAttn { get; }
    public Conv1D CProj { get; }

    public Gpt2Attention(ModelConfig c, int layer, DType dtype)
    {
        _layer = layer;
        _heads = c.NumHeads;
        _headDim = c.HiddenSize / c.NumHeads;
        CAttn = Register("c_attn", new Conv1D(c.HiddenSize, 3L * c.HiddenSize, dtype));
        CProj = Register("c_proj", new Conv1D(c.HiddenSize, c.HiddenSize, dtype));
    }

    public Tensor Forward(Tensor x, ForwardContext ctx)
    {
        var qkv = CAttn.Forward(x).Chunk(3, -1);                      // 3 × (B, T, C)
        var q = AttentionOps.SplitHeads(qkv[0], _heads, _headDim);    // (B, H, T, D)
        var k = AttentionOps.SplitHeads(qkv[1], _heads, _headDim);    // (B, H, T, D)
        var v = AttentionOps.SplitHeads(qkv[2], _heads, _headDim);    // (B, H, T, D)
        var y = AttentionOps.Attend(q, k, v, _layer, ctx);            // (B, H, T, D)
        return CProj.Forward(AttentionOps.MergeHeads(y));             // (B, T, C)
    }
}

internal sealed class Gpt2Mlp : Module
{
    public Conv1D CFc { get; }
    public Conv1D CProj { get; }

    public Gpt2Mlp(ModelConfig c, DType dtype)
    {
        CFc = Register("c_fc", new Conv1D(c.HiddenSize, c.IntermediateSize, dtype));
        CProj = Register("c_proj", new Conv1D(c.IntermediateSize, c.HiddenSize, dtype));
    }

    // (B, T, C) → (B, T, 4C) → (B, T, C); GPT-2's "gelu_new" is the tanh approximation.
    public Tensor Forward(Tensor x) => CProj.Forward(CFc.Forward(x).Gelu(tanhApproximation: true));
}
