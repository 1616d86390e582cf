using System.Runtime.InteropServices;
using static AlignCluster.Torch.Native.NativeMethods;

namespace AlignCluster.Torch;

// Copy-out, item, raw bytes, device and dtype conversion.
public partial class Tensor
{
    /// <summary>Copies the elements (row-major) into <paramref name="destination"/>; its length must equal NumElements.</summary>
    public void CopyTo<T>(Span<T> destination) where T : unmanaged
    {
        var want = DTypeExtensions.Of<T>();
        if (want != DType) throw new TorchException($"cannot copy a {DType} tensor into a {typeof(T).Name} span; convert with To(DType.{want}) first");
        CopyBytesTo(MemoryMarshal.AsBytes(destination));
    }

    /// <summary>The elements (row-major) as a new array; <typeparamref name="T"/> must match <see cref="DType"/>.</summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        var result = new T[NumElements];
        CopyTo<T>(result);
        return result;
    }

    /// <summary>
    /// Copies the raw little-endian element bytes (row-major, from any device) into <paramref name="destination"/>,
    /// whose length must equal <see cref="ByteCount"/>.
    /// </summary>
    public unsafe void CopyBytesTo(Span<byte> destination)
    {
        fixed (byte* d = destination) Check(act_copy_to_bytes(this, d, destination.Length));
    }

    /// <summary>The raw little-endian element bytes (row-major) as a new array.</summary>
    public byte[] ToBytes()
    {
        var result = new byte[ByteCount];
        CopyBytesTo(result);
        return result;
    }

    /// <summary>
    /// The storage of a contiguous CPU tensor as a writable span, without copying (e.g. to read a file straight into
    /// a tensor made by <see cref="Empty"/>). Valid only while this tensor is alive.
    /// </summary>
    public unsafe Span<byte> DataAsBytes()
    {
        if (!Device.IsCpu || !IsContiguous) throw new TorchException("DataAsBytes needs a contiguous CPU tensor; call Contiguous() or To(Device.Cpu) first");
        var p = act_data_ptr(this);
        if (p == 0 && NumElements > 0) TorchException.ThrowLast();
        return new Span<byte>((void*)p, checked((int)ByteCount));
    }

    /// <summary>The single value of a one-element tensor, as a double.</summary>
    public unsafe double ToDouble()
    {
        double v;
        Check(act_item_double(this, &v));
        return v;
    }

    /// <summary>The single value of a one-element tensor, as a float.</summary>
    public float ToSingle() => (float)ToDouble();

    /// <summary>The single value of a one-element tensor, as a long.</summary>
    public unsafe long ToInt64()
    {
        long v;
        Check(act_item_long(this, &v));
        return v;
    }

    /// <summary>The single value of a one-element tensor, as a bool.</summary>
    public bool ToBoolean() => ToInt64() != 0;

    /// <summary>The single value of a one-element tensor (like Python's <c>item()</c>).</summary>
    public T Item<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(double)) return (T)(object)ToDouble();
        if (typeof(T) == typeof(float)) return (T)(object)ToSingle();
        if (typeof(T) == typeof(long)) return (T)(object)ToInt64();
        if (typeof(T) == typeof(int)) return (T)(object)checked((int)ToInt64());
        if (typeof(T) == typeof(bool)) return (T)(object)ToBoolean();
        throw new NotSupportedException($"Item<{typeof(T).Name}> is not supported; use double, float, long, int or bool");
    }

    /// <summary>A copy on <paramref name="device"/> converted to <paramref name="dtype"/> (this tensor when nothing changes).</summary>
    public Tensor To(Device device, DType dtype) => Wrap(act_to(this, (int)dtype, (int)device.Type, device.Index));

    /// <summary>This tensor on <paramref name="device"/>.</summary>
    public Tensor To(Device device) => To(device, DType);

    /// <summary>This tensor converted to <paramref name="dtype"/>.</summary>
    public Tensor To(DType dtype) => To(Device, dtype);

    /// <summary>This tensor on the CPU.</summary>
    public Tensor Cpu() => To(Torch.Device.Cpu);

    /// <summary>True when both have the same shape and every element satisfies |a − b| ≤ atol + rtol·|b|.</summary>
    public bool AllClose(Tensor other, double rtol = 1e-5, double atol = 1e-8)
    {
        var r = act_allclose(this, other, rtol, atol);
        Check(r);
        return r == 1;
    }

    /// <summary>True when both have the same shape and identical elements.</summary>
    public bool ValueEquals(Tensor other)
    {
        var r = act_equal(this, other);
        Check(r);
        return r == 1;
    }
}
