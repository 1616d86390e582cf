using AlignCluster.Models.Nn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AlignCluster.Models;

// Fields carry Hugging Face's state-dict names (q_proj, input_layernorm, …): TorchSharp registers fields under their
// names.
#pragma warning disable IDE1006

/// <summary>
/// The Llama family (Llama 2/3/3.1, Mistral, Qwen2) as in HF's LlamaForCausalLM: token embedding, pre-RMSNorm
/// blocks of rotary grouped-query attention and a SwiGLU MLP, a final RMSNorm, and an LM head (tied or not).
/// Mistral adds a sliding attention window, Qwen2 biases on q/k/v.
/// Shapes: B batch, T new tokens, S cached + new tokens, C hidden, H query heads, KV key/value heads, D head dim, F MLP
/// width.
/// </summary>
public sealed class LlamaModel : CausalLM
{
    private readonly LlamaTrunk model;
    private readonly Dense? lm_head;

    internal LlamaModel(ModelConfig c, ScalarType dtype, Device device)
        : base(c, dtype, device)
    {
        model = new LlamaTrunk(c, dtype, device);
        if (!c.TieWordEmbeddings)
            lm_head = new Dense(c.HiddenSize, c.VocabSize, hasBias: false, dtype, device);
        RegisterComponents();
    }

    public override Tensor Hidden(Tensor inputIds, ForwardContext ctx) => model.Forward(inputIds, ctx);

    public override Tensor Logits(Tensor hidden) =>
        lm_head?.call(hidden) ?? torch.nn.functional.linear(hidden, model.embed_tokens.Weight); // (…, C) → (…, V)

    public override void InitializeWeights(Generator g)
    {
        // HF's initializer_range 0.02 for every matrix and the embedding; zero biases; norms start at one.
        Init.Normal(model.embed_tokens.Weight, Init.Std, g);
        foreach (var layer in model.layers)
        {
            foreach (
                var dense in new[]
                {
                    layer.self_attn.q_proj,
                    layer.self_attn.k_proj,
                    layer.self_attn.v_proj,
                    layer.self_attn.o_proj,
                    layer.mlp.gate_proj,
                    layer.mlp.up_proj,
                    layer.mlp.down_proj,
                }
            )
                dense.Initialize(Init.Std, g);
        }
        lm_head?.Initialize(Init.Std, g);
    }
}

/// <summary>HF's LlamaModel ("model.*"): embedding, decoder layers, final norm.</summary>
internal sealed class LlamaTrunk : Trunk
{
    internal readonly EmbeddingTable embed_tokens;
    internal readonly ModuleList<LlamaDecoderLayer> layers;
    private readonly RmsNorm norm;
    private readonly float[] _inverseFrequencies; // (D/2), kept in float32 whatever the weights' dtype (as HF does)

    public LlamaTrunk(ModelConfig c, ScalarType dtype, Device device)
        : base("LlamaModel")
    {
        embed_tokens = new EmbeddingTable(c.VocabSize, c.HiddenSize, dtype, device);
        layers = new ModuleList<LlamaDecoderLayer>(
            Enumerable.Range(0, c.NumLayers).Select(i => new LlamaDecoderLayer(c, i, dtype, device)).ToArray()
        );
        norm = new RmsNorm(c.HiddenSize, c.NormEps, dtype, device);
        _inverseFrequencies = Array.ConvertAll(Rope.InverseFrequencies(c.HeadDim, c.RopeTheta, c.RopeScaling), f =>
            (float)f
        );
        RegisterComponents();
    }

    public override Tensor Forward(Tensor ids, ForwardContext ctx)
    {
        var x = embed_tokens.call(ids); // (B, T, C)
        var inverseFrequencies = torch.tensor(_inverseFrequencies, device: ids.device); // (D/2)
        var (cos, sin) = Rope.Tables(ctx.Positions, inverseFrequencies, x.dtype); // (B, 1, T, D) each
        foreach (var layer in layers)
        {
            var next = layer.Forward(x, cos, sin, ctx); // (B, T, C)
            x.Dispose();
            x = next;
        }
        using (x)
            return norm.call(x); // (B, T, C)
    }
}

internal sealed class LlamaDecoderLayer : nn.Module
{
    private readonly RmsNorm input_layernorm,
        post_attention_layernorm;
    internal readonly LlamaAttention self_attn;
    internal readonly LlamaMlp mlp;

    public LlamaDecoderLayer(ModelConfig c, int layer, ScalarType dtype, Device device)
        : base("LlamaDecoderLayer")
    {
        input_layernorm = new RmsNorm(c.HiddenSize, c.NormEps, dtype, device);
        self_attn = new LlamaAttention(c, layer, dtype, device);
        post_attention_layernorm = new RmsNorm(c.HiddenSize, c.NormEps, dtype, device);
        mlp = new LlamaMlp(c, dtype, device);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, ForwardContext ctx)
    {
        using var scope = torch.NewDisposeScope();
        x = x + self_attn.Forward(input_layernorm.call(x), cos, sin, ctx); // (B, T, C)
        x = x + mlp.call(post_attention_layernorm.call(x)); // (B, T, C)
        return x.MoveToOuterDisposeScope();
    }
}

internal sealed class LlamaAttention : nn.Module
{
    private readonly int _layer;
    private readonly long _heads,
        _kvHeads,
        _headDim;
    internal readonly Dense q_proj,
        k_proj,
        v_proj,
        o_proj;

    public LlamaAttention(ModelConfig c, int layer, ScalarType dtype, Device device)
        : base("LlamaAttention")
    {
        _layer = layer;
        (_heads, _kvHeads, _headDim) = (c.NumHeads, c.NumKvHeads, c.HeadDim);
        q_proj = new Dense(c.HiddenSize, _heads * _headDim, c.QkvBias, dtype, device);
        k_proj = new Dense(c.HiddenSize, _kvHeads * _headDim, c.QkvBias, dtype, device);
        v_proj = new Dense(c.HiddenSize, _kvHeads * _headDim, c.QkvBias, dtype, device);
        o_proj = new Dense(_heads * _headDim, c.HiddenSize, c.OutputProjBias, dtype, device);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, ForwardContext ctx)
    {
        var q = AttentionOps.SplitHeads(q_proj.call(x), _heads, _headDim); // (B, H, T, D)
        var k = AttentionOps.SplitHeads(k_proj.call(x), _kvHeads, _headDim); // (B, KV, T, D)
        var v = AttentionOps.SplitHeads(v_proj.call(x), _kvHeads, _headDim); // (B, KV, T, D)
        q = Rope.Apply(q, cos, sin);
        k = Rope.Apply(k, cos, sin);
        var y = AttentionOps.Attend(q, k, v, _layer, ctx); // (B, H, T, D)
        return o_proj.call(AttentionOps.MergeHeads(y)); // (B, T, C)
    }
}

internal sealed class LlamaMlp : nn.Module<Tensor, Tensor>
{
    internal readonly Dense gate_proj,
        up_proj,
        down_proj;

    public LlamaMlp(ModelConfig c, ScalarType dtype, Device device)
        : base("LlamaMLP")
    {
        gate_proj = new Dense(c.HiddenSize, c.IntermediateSize, c.MlpBias, dtype, device);
        up_proj = new Dense(c.HiddenSize, c.IntermediateSize, c.MlpBias, dtype, device);
        down_proj = new Dense(c.IntermediateSize, c.HiddenSize, c.MlpBias, dtype, device);
        RegisterComponents();
    }

    // SwiGLU: down(silu(gate(x)) ⊙ up(x)); (B, T, C) → (B, T, F) → (B, T, C)
    public override Tensor forward(Tensor x) =>
        down_proj.call(torch.nn.functional.silu(gate_proj.call(x)) * up_proj.call(x));
}
