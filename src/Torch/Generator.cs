using AlignCluster.Torch.Native;

namespace AlignCluster.Torch;

/// <summary>
/// A seeded CPU random number generator (libtorch's Philox/MT generator) for reproducible sampling that does not
/// disturb the global one. Pass it to <see cref="Tensor.Randn"/>, <see cref="Tensor.Rand"/>,
/// <see cref="Tensor.RandInt"/>, <see cref="Tensor.Multinomial"/> or the in-place initializers.
/// </summary>
public sealed class Generator : IDisposable
{
    internal nint Handle { get; private set; }

    /// <summary>Creates a generator with the given seed.</summary>
    public Generator(ulong seed)
    {
        Handle = NativeMethods.act_generator_new(seed);
        if (Handle == 0) TorchException.ThrowLast();
    }

    /// <summary>Restarts the sequence from <paramref name="seed"/>.</summary>
    public void ManualSeed(ulong seed) => NativeMethods.Check(NativeMethods.act_generator_set_seed(Live, seed));

    internal nint Live
    {
        get
        {
            ObjectDisposedException.ThrowIf(Handle == 0, this);
            return Handle;
        }
    }

    internal static nint HandleOrZero(Generator? g) => g?.Live ?? 0;

    /// <summary>Frees the native generator.</summary>
    public void Dispose()
    {
        if (Handle != 0) NativeMethods.act_generator_free(Handle);
        Handle = 0;
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the native generator if Dispose was not called.</summary>
    ~Generator()
    {
        if (Handle != 0) NativeMethods.act_generator_free(Handle);
    }
}
