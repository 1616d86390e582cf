using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using AlignCluster.Torch.Native;

namespace AlignCluster.Torch;

/// <summary>
/// An error raised by libtorch (or by this binding's argument checks). <see cref="Exception.Message"/> carries
/// libtorch's own message (c10::Error::what_without_backtrace), e.g. "mat1 and mat2 shapes cannot be multiplied
/// (2x3 and 4x5)".
/// </summary>
public sealed class TorchException : Exception
{
    /// <summary>Creates an exception with the given message.</summary>
    public TorchException(string message) : base(message) { }

    /// <summary>Creates an exception with the given message and cause.</summary>
    public TorchException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Throws the error the last failed native call stored on this thread.</summary>
    [DoesNotReturn]
    internal static void ThrowLast()
    {
        var message = Marshal.PtrToStringUTF8(NativeMethods.act_last_error()) ?? "libtorch call failed without a message";
        NativeMethods.act_clear_error();
        throw new TorchException(message.TrimEnd());
    }
}
