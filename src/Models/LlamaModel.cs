using AlignCluster.Models.Nn;
using AlignCluster.Torch;
using AlignCluster.Torch.NN;

namespace AlignCluster.Models;

/// <summary>
/// The Llama family (Llama 2/3/3.1, Mistral, Qwen2) as in HF's LlamaForCausalLM: token embedding, pre-RMSNorm
/// blocks of rotary grouped-query attention and a SwiGLU MLP, a final RMSNorm, and an LM head (tied or not).
/// Mistral adds a sliding attention window, Qwen2 biases on q/k/v.
/// Shapes: B batch, T new tokens, S cached + new tokens, C hidden, H query heads, KV key/value heads, D head dim, F MLP width.
/// </summary>
public sealed class LlamaModel : CausalLM
{
    private readonly LlamaTrunk _model;
    private readonly Dense? _lmHead;

    internal LlamaModel(ModelConfig c, DType dtype) : base(c, dtype)
    {
        _model = Register("model", new LlamaTrunk(c, dtype));
        if (!c.TieWordEmbeddings) _lmHead = Register("lm_head", new Dense(c.HiddenSize, c.VocabSize, bias: false, dtype));
    }

    public override Tensor Hidden(Tensor inputIds, ForwardContext ctx) => _model.Forward(inputIds, ctx);

    public override Tensor Logits(Tensor hidden) =>
        _lmHead?.Forward(hidden) ?? Functional.Linear(hidden, _model.EmbedTokens.Weight); // (…, C) → (…, V)

    public override void InitializeWeights(Generator g)
    {
        // HF's initializer_range 0.02 for every matrix and the embedding; zero biases; norms start at one.
        Init.Normal(_model.EmbedTokens.Weight, Init.Std, g);
        foreach (var layer in _model.Layers)
        {
            foreach (var dense in new[] { layer.SelfAttn.QProj, layer.SelfAttn.KProj, layer.SelfAttn.VProj, layer.SelfAttn.OProj,
                         layer.Mlp.GateProj, layer.Mlp.UpProj, layer.Mlp.DownProj })
                dense.Initialize(Init.Std, g);
        }
        _lmHead?.Initialize(Init.Std, g);
    }
}

/// <summary>HF's LlamaModel ("model.*"): embedding, decoder layers, final norm.</summary>
internal sealed class LlamaTrunk : Trunk
{
    private readonly RmsNorm _norm;
    private readonly float[] _inverseFrequencies; // (D/2), kept in float32 whatever the weights' dtype (as HF does)
    public EmbeddingTable EmbedTokens { get; }
    public ModuleList<LlamaDecoderLayer> Layers { get; }

    public LlamaTrunk(ModelConfig c, DType dtype)
    {
        EmbedTokens = Register("embed_tokens", new EmbeddingTable(c.VocabSize, c.HiddenSize, dtype));
        Layers = Register("layers", new ModuleList<LlamaDecoderLayer>(Enumerable.Range(0, c.NumLayers).Select(i => new LlamaDecoderLayer(c, i, dtype))));
        _norm = Register("norm", new RmsNorm(c.HiddenSize, c.NormEps, dtype));
        _inverseFrequencies = Array.ConvertAll(Rope.InverseFrequencies(c.HeadDim, c.RopeTheta, c.RopeScaling), f => (float)f);
    }

    public override Tensor Forward(Tensor ids, ForwardContext ctx)
    {
        var x = EmbedTokens.Forward(ids);                                              // (B, T, C)
        var inverseFrequencies = Tensor.From<float>(_inverseFrequencies).To(ids.Device);   // (D/2)
        var (cos, sin) = Rope.Tables(ctx.Positions, inverseFrequencies, x.DType);      // (B, 1, T, D) each
        foreach (var layer in Layers)
        {
            var next = layer.Forward(x, cos, sin, ctx);                                 // (B, T, C)
            x.Dispose();
            x = next;
        }
        using (x) return _norm.Forward(x);                                             // (B, T, C)
    }
}

internal sealed class LlamaDecoderLayer : Module
{
    private readonly RmsNorm _inputNorm, _postAttentionNorm;
    public LlamaAttention SelfAttn { get; }
    public LlamaMlp Mlp { get; }

    public LlamaDecoderLayer(ModelConfig c, int layer, DType dtype)
    {
        _inputNorm = Register("input_layernorm", new RmsNorm(c.HiddenSize, c.NormEps, dtype));
        SelfAttn = Register("self_attn", new LlamaAttention(c, layer, dtype));
        _postAttentionNorm = Register("post_attention_layernorm", new RmsNorm(c.HiddenSize, c.NormEps, dtype));
        Mlp = Register("mlp", new LlamaMlp(c, dtype));
    }

    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, ForwardContext ctx)
    {
        using var scope = DisposeScope.Begin();
        x = x.Add(SelfAttn.Forward(_inputNorm.Forward(x), cos, sin, ctx));   // (B, T, C)
        x = x.Add(Mlp.Forward(_postAttentionNorm.Forward(x)));               // (B, T, C)
        return scope.MoveOut(x);
    }
}

internal sealed class LlamaAttention : Module
{
    private readonly int _layer;
    private readonly long _heads, _kvHeads, _headDim;
    public Dense QProj { get; }
    public Dense KProj { get; }
    public Dense VProj { get; }
    public Dense OProj { get; }

    public LlamaAttention(ModelConfig c, int layer, DType dtype)
    {
        _layer = layer;
        (_heads, _kvHeads, _headDim) = (c.NumHeads, c.NumKvHeads, c.HeadDim);
        QProj = Register("q_proj", new Dense(c.HiddenSize, _heads * _headDim, c.QkvBias, dtype));
        KProj = Register("k_proj", new Dense(c.HiddenSize, _kvHeads * _headDim, c.QkvBias, dtype));
        VProj = Register("v_proj", new Dense(c.HiddenSize, _kvHeads * _headDim, c.QkvBias, dtype));
        OProj = Register("o_proj", new Dense(_heads * _headDim, c.HiddenSize, c.OutputProjBias, dtype));
    }

    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, ForwardContext ctx)
    {
        var q = AttentionOps.SplitHeads(QProj.Forward(x), _heads, _headDim);     // (B, H, T, D)
        var k = AttentionOps.SplitHeads(KProj.Forward(x), _kvHeads, _headDim);   // (B, KV, T, D)
        var v = AttentionOps.SplitHeads(VProj.Forward(x), _kvHeads, _headDim);   // (B, KV, T, D)
        q = Rope.Apply(q, cos, sin);
        k = Rope.Apply(k, cos, sin);
        var y = AttentionOps.Attend(q, k, v, _layer, ctx);                       // (B, H, T, D)
        return OProj.Forward(AttentionOps.MergeHeads(y));                        // (B, T, C)
    }
}

internal sealed class LlamaMlp : Module
{
    public Dense GateProj { get; }
    public Dense UpProj { get; }
    public Dense DownProj { get; }

    public LlamaMlp(ModelConfig c, DType dtype)
    {
        GateProj = Register("gate_proj", new Dense(c.HiddenSize, c.IntermediateSize, c.MlpBias, dtype));
        UpProj = Register("up_proj", new Dense(c.HiddenSize, c.IntermediateSize, c.MlpBias, dtype));
        DownProj = Register("down_proj", new Dense(c.IntermediateSize, c.HiddenSize, c.MlpBias, dtype));
    }

    // SwiGLU: down(silu(gate(x)) ⊙ up(x)); (B, T, C) → (B, T, F) → (B, T, C)
    public Tensor Forward(Tensor x) => DownProj.Forward(GateProj.Forward(x).Silu().Mul(UpProj.Forward(x)));
}
