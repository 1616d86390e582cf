using static AlignCluster.Torch.Native.NativeMethods;

namespace AlignCluster.Torch.NN;

/// <summary>
/// A trainable tensor owned by a <see cref="Module"/>: a leaf that requires grad (unless told otherwise) and never
/// joins a <see cref="DisposeScope"/>; its module disposes it.
/// </summary>
public sealed class Parameter : Tensor
{
    /// <summary>
    /// Makes a parameter that shares <paramref name="data"/>'s storage, cut from any graph. Consumes
    /// <paramref name="data"/>: that handle is disposed, the parameter is the one to use.
    /// </summary>
    public Parameter(Tensor data, bool requiresGrad = true) : base(DetachedHandle(data))
    {
        DetachFromScope();
        data.Dispose();
        RequiresGrad = requiresGrad;
    }

    private static nint DetachedHandle(Tensor data)
    {
        var h = act_detach(data);
        if (h == 0) TorchException.ThrowLast();
        return h;
    }
}
