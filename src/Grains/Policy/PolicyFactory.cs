using AlignCluster.Interfaces;

namespace AlignCluster.Grains.Policy;

/// <summary>Builds the policy a <see cref="PolicySpec"/> names.</summary>
public static class PolicyFactory
{
    public static IPolicyModel Create(PolicySpec spec) => spec.Kind switch
    {
        "toy" => new ToyPolicy(spec.MaxPromptLength, spec.MaxResponseLength, spec.WeightDecay, spec.GradClip),
        "hf" => throw new NotSupportedException(
            "policy kind 'hf' (a Hugging Face model directory) is not wired into the trainer yet; use kind 'toy'"),
        _ => throw new ArgumentException($"unknown policy kind '{spec.Kind}'; known: toy, hf"),
    };
}
