using AlignCluster.Interfaces;

namespace AlignCluster.Grains.Policy;

/// <summary>Builds the policy a <see cref="PolicySpec"/> names.</summary>
public static class PolicyFactory
{
    /// <summary>Policy kinds: toy (plain C# log-linear), gpt2 / llama (tiny transformers over the toy vocabulary), hf (a model directory).</summary>
    public static readonly IReadOnlyList<string> Kinds = ["toy", "gpt2", "llama", "hf"];

    public static IPolicyModel Create(PolicySpec spec) => spec.Kind switch
    {
        "toy" => new ToyPolicy(spec.MaxPromptLength, spec.MaxResponseLength, spec.WeightDecay, spec.GradClip),
        "gpt2" or "llama" or "hf" => TorchPolicy.Create(spec),
        _ => throw new ArgumentException($"unknown policy kind '{spec.Kind}'; known: {string.Join(", ", Kinds)}"),
    };
}
