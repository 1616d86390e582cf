using AlignCluster.Models.SafeTensors;
using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Models;

/// <summary>Fills a freshly built network from a model directory's safetensors: the one loading path of causal LMs and
/// reward models.</summary>
internal static class CheckpointLoader
{
    /// <summary>
    /// Copies every parameter from the tensor <paramref name="resolve"/> maps its HF name to (the network was built on
    /// its device, so values go straight there) and switches it to eval mode. On any failure the network is disposed
    /// (its native memory freed) and safetensors errors become <see cref="ModelLoadException"/>s.
    /// </summary>
    public static T Fill<T>(T network, string directory, Func<ISafeTensorSource, Dictionary<string, string>> resolve)
        where T : nn.Module
    {
        try
        {
            using var checkpoint = SafeTensorsCheckpoint.Open(directory);
            var names = resolve(checkpoint);
            foreach (var (name, parameter) in network.state_dict())
                checkpoint.CopyInto(names[name], parameter);
            network.eval();
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
