using AlignCluster.Contracts;
using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Grains.Policy;

/// <summary>Builds the policy a <see cref="PolicySpec"/> names.</summary>
public static class PolicyFactory
{
    /// <summary>Policy kinds: toy (plain C# log-linear), gpt2 / llama (tiny transformers over the toy vocabulary), hf
    /// (a model directory).</summary>
    public static readonly IReadOnlyList<string> Kinds = ["toy", "gpt2", "llama", "hf"];

    /// <param name="device">Where a libtorch policy's weights live (the trainer's leased device; default CPU). The toy
    /// policy is plain C# and always computes on the CPU.</param>
    public static IPolicyModel Create(PolicySpec spec, Device? device = null) =>
        spec.Kind switch
        {
            "toy" => new ToyPolicy(spec.MaxPromptLength, spec.MaxResponseLength, spec.WeightDecay, spec.GradClip),
            "gpt2" or "llama" or "hf" => TorchPolicy.Create(spec, device ?? torch.CPU),
            _ => throw new ArgumentException($"unknown policy kind '{spec.Kind}'; known: {string.Join(", ", Kinds)}"),
        };

    /// <summary>The libtorch device of a leased silo device: "cuda:N" devices are GPUs, every other kind the
    /// CPU.</summary>
    public static Device DeviceOf(string? leased) =>
        leased is not null && leased.StartsWith("cuda", StringComparison.Ordinal)
            ? new Device(DeviceType.CUDA, CudaIndex(leased))
            : torch.CPU;

    /// <summary>N of "cuda:N" ("cuda" alone is 0). The Device is made without torch.device(), which would initialize
    /// CUDA
    /// here: a CPU-only libtorch must fail where the policy is built on it, with the device named.</summary>
    private static int CudaIndex(string id) =>
        id.Split(':') is [_, var n] && int.TryParse(n, out int index) && index >= 0 ? index
        : id == "cuda" ? 0
        : throw new ArgumentException($"device '{id}' is not cuda:N");
}
