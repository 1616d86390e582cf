using AlignCluster.Models.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Models;

/// <summary>
/// HF's GPT2ForSequenceClassification / LlamaForSequenceClassification (Mistral, Qwen2 alike): the causal LM's trunk
/// under the same prefix ("transformer." / "model."), no LM head, and an unbiased linear head "score" (labels, C)
/// applied to the final hidden state of one token per sequence. A reward model is one with a single label.
/// </summary>
public sealed class SequenceClassifier : nn.Module
{
    private readonly Trunk _trunk;
    private readonly Dense _score;

    internal SequenceClassifier(ModelConfig config, int labels, ScalarType dtype, Device device)
        : base("SequenceClassifier")
    {
        Config = config;
        Labels = labels;
        DType = dtype;
        Device = device;
        _trunk = Trunk.Create(config, dtype, device);
        _score = new Dense(config.HiddenSize, labels, hasBias: false, dtype, device);
        register_module(Trunk.Prefix(config), _trunk); // the prefix depends on the family, so not a field name
        register_module("score", _score);
    }

    /// <summary>The trunk's architecture (config.json).</summary>
    public ModelConfig Config { get; }

    /// <summary>Rows of score.weight (1 for a reward model).</summary>
    public int Labels { get; }

    public ScalarType DType { get; }

    public Device Device { get; }

    /// <summary>(B, T) ids, (B, T) attention mask or null → (B, T, C) final hidden states, after the last
    /// norm.</summary>
    public Tensor ForwardHidden(Tensor inputIds, Tensor? attentionMask = null) =>
        CausalLM.RunTrunk(Config, Device, inputIds, attentionMask, cache: null, ctx => _trunk.Forward(inputIds, ctx));

    /// <summary>
    /// HF's pooled logits: the head applied to the hidden state at <paramref name="lastIndex"/> (B) of each row →
    /// (B, labels), float32.
    /// </summary>
    public Tensor Forward(Tensor inputIds, Tensor? attentionMask, Tensor lastIndex)
    {
        using var scope = torch.NewDisposeScope();
        long b = inputIds.shape[0],
            t = inputIds.shape[1];
        var hidden = ForwardHidden(inputIds, attentionMask).reshape(b * t, -1); // (B·T, C)
        var rows = torch.arange(b, device: lastIndex.device) * t + lastIndex; // (B) flat index of each row's token
        var pooled = hidden.index_select(0, rows); // (B, C)
        return _score.call(pooled).to_type(ScalarType.Float32).MoveToOuterDisposeScope(); // (B, labels)
    }
}
