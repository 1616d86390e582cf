using static AlignCluster.Torch.Native.NativeMethods;

namespace AlignCluster.Torch;

// Autograd: leaves, backward, gradients.
public partial class Tensor
{
    /// <summary>Whether autograd records ops on this tensor. Set it on leaves (inputs, weights).</summary>
    public bool RequiresGrad
    {
        get => act_requires_grad(this) != 0;
        set => Check(act_set_requires_grad(this, value ? 1 : 0));
    }

    /// <summary>Sets <see cref="RequiresGrad"/> and returns this tensor (for chaining).</summary>
    public Tensor RequiresGrad_(bool requiresGrad = true)
    {
        RequiresGrad = requiresGrad;
        return this;
    }

    /// <summary>True for tensors not produced by a recorded op (their <see cref="Grad"/> is accumulated).</summary>
    public bool IsLeaf => act_is_leaf(this) != 0;

    /// <summary>
    /// Back-propagates from this tensor: accumulates d(this)/d(leaf) into each leaf's <see cref="Grad"/>.
    /// A non-scalar tensor needs <paramref name="gradient"/> (the vector of the vector-Jacobian product).
    /// </summary>
    public void Backward(Tensor? gradient = null, bool retainGraph = false, bool createGraph = false)
    {
        Check(act_backward(this, HandleOrZero(gradient), retainGraph ? 1 : 0, createGraph ? 1 : 0));
        GC.KeepAlive(gradient);
    }

    /// <summary>
    /// The accumulated gradient, or null before any backward. Each read returns a new handle to the same storage
    /// (it joins the current dispose scope like any result).
    /// </summary>
    public Tensor? Grad
    {
        get
        {
            var h = act_grad(this);
            if (h != 0) return new Tensor(h);
            if (act_last_error() != 0) TorchException.ThrowLast();
            return null;
        }
        set
        {
            Check(act_set_grad(this, HandleOrZero(value)));
            GC.KeepAlive(value);
        }
    }

    /// <summary>Makes a non-leaf keep its <see cref="Grad"/> after backward.</summary>
    public void RetainGrad() => Check(act_retain_grad(this));

    /// <summary>Makes this tensor (the same object and handle) refer to <paramref name="data"/>'s storage, shape and dtype.</summary>
    internal void SetData(Tensor data) => Check(act_set_data(this, data));

    /// <summary>Same data, cut from the autograd graph (no gradient flows through the result).</summary>
    public Tensor Detach() => Wrap(act_detach(this));
}
