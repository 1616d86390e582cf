using AlignCluster.Torch.NN;
using AlignCluster.Torch.Native;

namespace AlignCluster.Torch.Optim;

/// <summary>Gradient-norm clipping (torch.nn.utils.clip_grad_norm_).</summary>
public static class GradientClipping
{
    /// <summary>
    /// Computes the 2-norm of all gradients taken together; when it exceeds <paramref name="maxNorm"/>, scales every
    /// gradient in place by maxNorm / (norm + 1e-6). Returns the norm before clipping (a TRL "grad_norm" metric).
    /// </summary>
    public static unsafe double ClipGradNorm(IEnumerable<Parameter> parameters, double maxNorm)
    {
        var list = parameters.ToArray();
        var handles = Tensor.Handles(list);
        double total;
        fixed (nint* h = handles) NativeMethods.Check(NativeMethods.act_clip_grad_norm(h, handles.Length, maxNorm, &total));
        GC.KeepAlive(list);
        return total;
    }
}
