using AlignCluster.Models.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Models;

/// <summary>
/// The transformer without a head: token ids → final hidden states (B, T, C), after the last norm. HF keeps it
/// under one prefix ("transformer." for GPT-2, "model." for the Llama family) in both its causal-LM and its
/// sequence-classification checkpoints, so <see cref="CausalLM"/> and <see cref="SequenceClassifier"/> share it.
/// </summary>
internal abstract class Trunk(string name) : nn.Module(name)
{
    /// <summary>(B, T) ids → (B, T, C) hidden states.</summary>
    public abstract Tensor Forward(Tensor ids, ForwardContext ctx);

    /// <summary>HF's state-dict prefix of the trunk for a family.</summary>
    public static string Prefix(ModelConfig config) => config.Family == ModelFamily.Gpt2 ? "transformer" : "model";

    /// <summary>An uninitialized trunk of <paramref name="config"/>'s architecture.</summary>
    public static Trunk Create(ModelConfig config, ScalarType dtype, Device device) =>
        config.Family == ModelFamily.Gpt2
            ? new Gpt2Trunk(config, dtype, device)
            : new LlamaTrunk(config, dtype, device);
}
