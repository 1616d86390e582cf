namespace AlignCluster.Torch;

/// <summary>Element types. The values are libtorch's c10::ScalarType codes.</summary>
public enum DType
{
    /// <summary>unsigned 8-bit integer (torch.uint8).</summary>
    UInt8 = 0,
    /// <summary>signed 8-bit integer (torch.int8).</summary>
    Int8 = 1,
    /// <summary>signed 16-bit integer (torch.int16).</summary>
    Int16 = 2,
    /// <summary>signed 32-bit integer (torch.int32).</summary>
    Int32 = 3,
    /// <summary>signed 64-bit integer (torch.int64), the index type.</summary>
    Int64 = 4,
    /// <summary>IEEE half precision (torch.float16).</summary>
    Float16 = 5,
    /// <summary>IEEE single precision (torch.float32), the default.</summary>
    Float32 = 6,
    /// <summary>IEEE double precision (torch.float64).</summary>
    Float64 = 7,
    /// <summary>boolean, one byte per element (torch.bool).</summary>
    Bool = 11,
    /// <summary>brain floating point: float32's exponent, 8-bit mantissa (torch.bfloat16).</summary>
    BFloat16 = 15,
}

/// <summary>Facts about <see cref="DType"/> values.</summary>
public static class DTypeExtensions
{
    /// <summary>Bytes per element.</summary>
    public static int ElementSize(this DType dtype) => dtype switch
    {
        DType.UInt8 or DType.Int8 or DType.Bool => 1,
        DType.Int16 or DType.Float16 or DType.BFloat16 => 2,
        DType.Int32 or DType.Float32 => 4,
        DType.Int64 or DType.Float64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    /// <summary>True for Float16, BFloat16, Float32 and Float64.</summary>
    public static bool IsFloatingPoint(this DType dtype) =>
        dtype is DType.Float16 or DType.BFloat16 or DType.Float32 or DType.Float64;

    /// <summary>The dtype that stores elements of the CLR type <typeparamref name="T"/>.</summary>
    public static DType Of<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return DType.Float32;
        if (typeof(T) == typeof(double)) return DType.Float64;
        if (typeof(T) == typeof(long)) return DType.Int64;
        if (typeof(T) == typeof(int)) return DType.Int32;
        if (typeof(T) == typeof(short)) return DType.Int16;
        if (typeof(T) == typeof(sbyte)) return DType.Int8;
        if (typeof(T) == typeof(byte)) return DType.UInt8;
        if (typeof(T) == typeof(bool)) return DType.Bool;
        if (typeof(T) == typeof(Half)) return DType.Float16;
        throw new NotSupportedException($"no tensor dtype stores {typeof(T).Name}; use Tensor.FromBytes for raw data (e.g. bfloat16)");
    }
}
