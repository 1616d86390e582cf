using AlignCluster.Models.Nn;
using AlignCluster.Torch;
using AlignCluster.Torch.NN;

namespace AlignCluster.Models;

/// <summary>
/// The transformer without a head: token ids → final hidden states (B, T, C), after the last norm. HF keeps it
/// under one prefix ("transformer." for GPT-2, "model." for the Llama family) in both its causal-LM and its
/// sequence-classification checkpoints, so <see cref="CausalLM"/> and <see cref="SequenceClassifier"/> share it.
/// </summary>
internal abstract class Trunk : Module
{
    /// <summary>(B, T) ids → (B, T, C) hidden states.</summary>
    public abstract Tensor Forward(Tensor ids, ForwardContext ctx);

    /// <summary>HF's state-dict prefix of the trunk for a family.</summary>
    public static string Prefix(ModelConfig config) => config.Family == ModelFamily.Gpt2 ? "transformer" : "model";

    /// <summary>An uninitialized trunk of <paramref name="config"/>'s architecture.</summary>
    public static Trunk Create(ModelConfig config, DType dtype) => config.Family == ModelFamily.Gpt2
        ? new Gpt2Trunk(config, dtype)
        : new LlamaTrunk(config, dtype);
}
