using AlignCluster.Models.Nn;
using AlignCluster.Torch;
using AlignCluster.Torch.NN;

namespace AlignCluster.Models;

/// <summary>
/// HF's GPT2ForSequenceClassification / LlamaForSequenceClassification (Mistral, Qwen2 alike): the causal LM's trunk
/// under the same prefix ("transformer." / "model."), no LM head, and an unbiased linear head "score" (labels, C)
/// applied to the final hidden state of one token per sequence. A reward model is one with a single label.
/// </summary>
public sealed class SequenceClassifier : Module
{
    private readonly Trunk _trunk;
    private readonly Dense _score;

    internal SequenceClassifier(ModelConfig config, int labels, DType dtype)
    {
        Config = config;
        Labels = labels;
        DType = dtype;
        _trunk = Register(Trunk.Prefix(config), Trunk.Create(config, dtype));
        _score = Register("score", new Dense(config.HiddenSize, labels, bias: false, dtype));
    }

    /// <summary>The trunk's architecture (config.json).</summary>
    public ModelConfig Config { get; }

    /// <summary>Rows of score.weight (1 for a reward model).</summary>
    public int Labels { get; }

    public DType DType { get; }

    /// <summary>(B, T) ids, (B, T) attention mask or null → (B, T, C) final hidden states, after the last norm.</summary>
    public Tensor ForwardHidden(Tensor inputIds, Tensor? attentionMask = null) =>
        CausalLM.RunTrunk(Config, inputIds, attentionMask, cache: null, ctx => _trunk.Forward(inputIds, ctx));

    /// <summary>
    /// HF's pooled logits: the head applied to the hidden state at <paramref name="lastIndex"/> (B) of each row →
    /// (B, labels), float32.
    /// </summary>
    public Tensor Forward(Tensor inputIds, Tensor? attentionMask, Tensor lastIndex)
    {
        using var scope = DisposeScope.Begin();
        long b = inputIds.Size(0), t = inputIds.Size(1);
        var hidden = ForwardHidden(inputIds, attentionMask).Reshape(b * t, -1);                    // (B·T, C)
        var rows = Tensor.Arange(b, device: lastIndex.Device).Mul(t).Add(lastIndex);                   // (B) flat index of each row's token
        var pooled = hidden.IndexSelect(0, rows);                                                   // (B, C)
        return scope.MoveOut(_score.Forward(pooled).To(DType.Float32));                             // (B, labels)
    }
}
