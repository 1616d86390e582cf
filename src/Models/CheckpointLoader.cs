using AlignCluster.Torch;
using AlignCluster.Torch.NN;
using AlignCluster.Torch.SafeTensors;

namespace AlignCluster.Models;

/// <summary>Fills a freshly built network from a model directory's safetensors: the one loading path of causal LMs and reward models.</summary>
internal static class CheckpointLoader
{
    /// <summary>
    /// Copies every parameter from the tensor <paramref name="resolve"/> maps its HF name to, moves the network to
    /// <paramref name="device"/> and switches it to eval mode. On any failure the network is disposed (its native memory
    /// freed) and safetensors errors become <see cref="ModelLoadException"/>s.
    /// </summary>
    public static T Fill<T>(T network, string directory, Func<ISafeTensorSource, Dictionary<string, string>> resolve, Device? device) where T : Module
    {
        try
        {
            using var checkpoint = SafeTensorsCheckpoint.Open(directory);
            var names = resolve(checkpoint);
            foreach (var (name, parameter) in network.StateDict())
                checkpoint.CopyInto(names[name], parameter);
            if (device is { } d && !d.IsCpu) network.To(d);
            network.Eval();
            return network;
        }
        catch (SafeTensorsException e)
        {
            network.Dispose();
            throw new ModelLoadException(e.Message, e);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }
}
