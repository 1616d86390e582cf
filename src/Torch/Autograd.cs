using AlignCluster.Torch.Native;

namespace AlignCluster.Torch;

/// <summary>Thread-wide autograd switches (libtorch's grad mode is per thread).</summary>
public static class Autograd
{
    /// <summary>Whether ops on this thread record the graph for backward.</summary>
    public static bool IsGradEnabled => NativeMethods.act_grad_enabled() != 0;

    /// <summary>
    /// Stops recording autograd history on this thread until the returned scope is disposed
    /// (<c>using (Autograd.NoGrad()) { ... }</c>); inference and optimizer updates run in one. No <c>await</c> inside.
    /// </summary>
    public static GradModeScope NoGrad() => new(false);

    /// <summary>Turns recording back on inside a <see cref="NoGrad"/> region, until disposed.</summary>
    public static GradModeScope EnableGrad() => new(true);
}

/// <summary>Restores the previous grad mode when disposed.</summary>
public readonly struct GradModeScope : IDisposable
{
    private readonly bool previous;

    internal GradModeScope(bool enabled)
    {
        previous = NativeMethods.act_grad_enabled() != 0;
        NativeMethods.act_set_grad_enabled(enabled ? 1 : 0);
    }

    /// <summary>Restores the grad mode that was active when this scope began.</summary>
    public void Dispose() => NativeMethods.act_set_grad_enabled(previous ? 1 : 0);
}
