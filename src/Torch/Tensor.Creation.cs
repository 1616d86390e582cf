using System.Runtime.InteropServices;
using static AlignCluster.Torch.Native.NativeMethods;

namespace AlignCluster.Torch;

// Factories: Tensor.Zeros([2, 3]), Tensor.Randn([B, T, C], generator: g), Tensor.From(data, 2, 3), ...
public partial class Tensor
{
    private static int DevType(Device? device) => (int)(device ?? Torch.Device.Cpu).Type;
    private static int DevIndex(Device? device) => (device ?? Torch.Device.Cpu).Index;

    /// <summary>A tensor of the given shape with uninitialized values.</summary>
    public static unsafe Tensor Empty(ReadOnlySpan<long> shape, DType dtype = DType.Float32, Device? device = null, bool requiresGrad = false)
    {
        fixed (long* s = shape)
            return Wrap(act_empty(s, shape.Length, (int)dtype, DevType(device), DevIndex(device), requiresGrad ? 1 : 0));
    }

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    public static unsafe Tensor Full(ReadOnlySpan<long> shape, Scalar value, DType dtype = DType.Float32, Device? device = null, bool requiresGrad = false)
    {
        fixed (long* s = shape)
            return Wrap(act_full(s, shape.Length, value.Value, (int)dtype, DevType(device), DevIndex(device), requiresGrad ? 1 : 0));
    }

    /// <summary>A tensor of zeros.</summary>
    public static Tensor Zeros(ReadOnlySpan<long> shape, DType dtype = DType.Float32, Device? device = null, bool requiresGrad = false) =>
        Full(shape, 0, dtype, device, requiresGrad);

    /// <summary>A tensor of ones.</summary>
    public static Tensor Ones(ReadOnlySpan<long> shape, DType dtype = DType.Float32, Device? device = null, bool requiresGrad = false) =>
        Full(shape, 1, dtype, device, requiresGrad);

    /// <summary>0, 1, …, end−1 (Int64 unless a dtype is given).</summary>
    public static Tensor Arange(long end, DType dtype = DType.Int64, Device? device = null) => Arange(0, end, 1, dtype, device);

    /// <summary>
    /// start, start+step, … up to (not including) end. Without a dtype: Float32 when any bound is floating-point,
    /// otherwise Int64 (as torch.arange).
    /// </summary>
    public static Tensor Arange(Scalar start, Scalar end, Scalar step, DType? dtype = null, Device? device = null, bool requiresGrad = false)
    {
        var inferred = dtype ?? (start.IsFloatingPoint || end.IsFloatingPoint || step.IsFloatingPoint ? DType.Float32 : DType.Int64);
        return Wrap(act_arange(start.Value, end.Value, step.Value, (int)inferred, DevType(device), DevIndex(device), requiresGrad ? 1 : 0));
    }

    /// <summary>Samples of the standard normal distribution, from <paramref name="generator"/> or the global one.</summary>
    public static Tensor Randn(ReadOnlySpan<long> shape, DType dtype = DType.Float32, Device? device = null, Generator? generator = null, bool requiresGrad = false) =>
        Random(0, shape, dtype, device, generator, requiresGrad);

    /// <summary>Samples of the uniform distribution on [0, 1).</summary>
    public static Tensor Rand(ReadOnlySpan<long> shape, DType dtype = DType.Float32, Device? device = null, Generator? generator = null, bool requiresGrad = false) =>
        Random(1, shape, dtype, device, generator, requiresGrad);

    private static unsafe Tensor Random(int kind, ReadOnlySpan<long> shape, DType dtype, Device? device, Generator? generator, bool requiresGrad)
    {
        fixed (long* s = shape)
        {
            var h = act_random(kind, s, shape.Length, Generator.HandleOrZero(generator), (int)dtype, DevType(device), DevIndex(device), requiresGrad ? 1 : 0);
            GC.KeepAlive(generator);
            return Wrap(h);
        }
    }

    /// <summary>Uniform integers in [low, high).</summary>
    public static unsafe Tensor RandInt(long low, long high, ReadOnlySpan<long> shape, DType dtype = DType.Int64, Device? device = null, Generator? generator = null)
    {
        fixed (long* s = shape)
        {
            var h = act_randint(low, high, s, shape.Length, Generator.HandleOrZero(generator), (int)dtype, DevType(device), DevIndex(device));
            GC.KeepAlive(generator);
            return Wrap(h);
        }
    }

    /// <summary>Zeros with the shape, dtype and device of <paramref name="like"/>.</summary>
    public static Tensor ZerosLike(Tensor like) => Wrap(act_like(0, like));
    /// <summary>Ones with the shape, dtype and device of <paramref name="like"/>.</summary>
    public static Tensor OnesLike(Tensor like) => Wrap(act_like(1, like));
    /// <summary>Uninitialized, with the shape, dtype and device of <paramref name="like"/>.</summary>
    public static Tensor EmptyLike(Tensor like) => Wrap(act_like(2, like));
    /// <summary>Standard normal samples shaped like <paramref name="like"/> (global generator).</summary>
    public static Tensor RandnLike(Tensor like) => Wrap(act_like(3, like));
    /// <summary>Uniform [0, 1) samples shaped like <paramref name="like"/> (global generator).</summary>
    public static Tensor RandLike(Tensor like) => Wrap(act_like(4, like));
    /// <summary>A constant shaped like <paramref name="like"/>.</summary>
    public static Tensor FullLike(Tensor like, Scalar value) => Wrap(act_full_like(like, value.Value));

    /// <summary>A 0-dimensional tensor holding <paramref name="value"/>.</summary>
    public static Tensor FromScalar(Scalar value, DType dtype = DType.Float32, Device? device = null) => Full([], value, dtype, device);

    /// <summary>
    /// Copies <paramref name="data"/> (row-major) into a new CPU tensor of the given shape; with no shape, a 1-D
    /// tensor of data.Length elements. The dtype follows <typeparamref name="T"/> (float → Float32, long → Int64,
    /// bool → Bool, Half → Float16, …).
    /// </summary>
    public static Tensor From<T>(ReadOnlySpan<T> data, params ReadOnlySpan<long> shape) where T : unmanaged
    {
        var bytes = MemoryMarshal.AsBytes(data);
        return shape.Length == 0 ? FromBytes(DTypeExtensions.Of<T>(), [data.Length], bytes) : FromBytes(DTypeExtensions.Of<T>(), shape, bytes);
    }

    /// <summary>
    /// Copies raw little-endian element bytes into a new contiguous CPU tensor (any dtype, e.g. BFloat16 from a
    /// safetensors file). The byte count must equal the shape's element count × the dtype's size.
    /// </summary>
    public static unsafe Tensor FromBytes(DType dtype, ReadOnlySpan<long> shape, ReadOnlySpan<byte> data)
    {
        fixed (byte* d = data)
        fixed (long* s = shape)
            return Wrap(act_from_bytes(d, data.Length, s, shape.Length, (int)dtype));
    }
}
