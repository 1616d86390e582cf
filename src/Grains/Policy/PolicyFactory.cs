using AlignCluster.Interfaces;
using AlignCluster.Torch;

namespace AlignCluster.Grains.Policy;

/// <summary>Builds the policy a <see cref="PolicySpec"/> names.</summary>
public static class PolicyFactory
{
    /// <summary>Policy kinds: toy (plain C# log-linear), gpt2 / llama (tiny transformers over the toy vocabulary), hf (a model directory).</summary>
    public static readonly IReadOnlyList<string> Kinds = ["toy", "gpt2", "llama", "hf"];

    /// <param name="device">Where a libtorch policy's weights live (the trainer's leased device; default CPU). The toy
    /// policy is plain C# and always computes on the CPU.</param>
    public static IPolicyModel Create(PolicySpec spec, Device? device = null) => spec.Kind switch
    {
        "toy" => new ToyPolicy(spec.MaxPromptLength, spec.MaxResponseLength, spec.WeightDecay, spec.GradClip),
        "gpt2" or "llama" or "hf" => TorchPolicy.Create(spec, device ?? Device.Cpu),
        _ => throw new ArgumentException($"unknown policy kind '{spec.Kind}'; known: {string.Join(", ", Kinds)}"),
    };

    /// <summary>The libtorch device of a leased silo device: "cuda:N" devices are GPUs, every other kind the CPU.</summary>
    public static Device DeviceOf(string? leased) =>
        leased is not null && leased.StartsWith("cuda:", StringComparison.Ordinal) ? Device.Parse(leased) : Device.Cpu;
}
