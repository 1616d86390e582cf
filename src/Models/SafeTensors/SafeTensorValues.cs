using System.Runtime.InteropServices;

namespace AlignCluster.Models.SafeTensors;

/// <summary>
/// Typed views over safetensors bytes without a tensor engine: conversions between float arrays and the
/// F32/F64/BF16/F16 encodings, and checked reads that name the tensor when dtype or shape differ.
/// </summary>
public static class SafeTensorValues
{
    /// <summary>Throws naming file, tensor and both shapes/dtypes unless the tensor has exactly this dtype and
    /// shape.</summary>
    public static SafeTensorInfo Expect(
        this ISafeTensorSource source,
        string name,
        SafeTensorDType dtype,
        IReadOnlyList<long> shape
    )
    {
        if (!source.Contains(name))
            throw new SafeTensorsException(
                source.FileOf(name),
                name,
                $"missing tensor (expected {dtype} {SafeTensorDTypes.FormatShape(shape)})"
            );
        var info = source.Info(name);
        if (!info.Matches(dtype, shape))
            throw new SafeTensorsException(
                source.FileOf(name),
                name,
                $"expected {dtype} {SafeTensorDTypes.FormatShape(shape)} but the file holds {info.DType} {SafeTensorDTypes.FormatShape(info.Shape)}"
            );
        return info;
    }

    /// <summary>Reads a floating-point tensor (F32, F64, BF16 or F16) as float32 values.</summary>
    public static float[] ReadFloat32(this ISafeTensorSource source, string name)
    {
        var info = source.Info(name);
        var bytes = source.Bytes(name);
        return info.DType switch
        {
            SafeTensorDType.F32 => MemoryMarshal.Cast<byte, float>(bytes).ToArray(),
            SafeTensorDType.F64 => Array.ConvertAll(MemoryMarshal.Cast<byte, double>(bytes).ToArray(), d => (float)d),
            SafeTensorDType.BF16 => Array.ConvertAll(
                MemoryMarshal.Cast<byte, ushort>(bytes).ToArray(),
                BFloat16ToFloat
            ),
            SafeTensorDType.F16 => Array.ConvertAll(MemoryMarshal.Cast<byte, Half>(bytes).ToArray(), h => (float)h),
            _ => throw new SafeTensorsException(
                source.FileOf(name),
                name,
                $"dtype {info.DType} is not a floating-point type"
            ),
        };
    }

    /// <summary>Reads an integer tensor (I64, I32, U8, BOOL) as int64 values.</summary>
    public static long[] ReadInt64(this ISafeTensorSource source, string name)
    {
        var info = source.Info(name);
        var bytes = source.Bytes(name);
        return info.DType switch
        {
            SafeTensorDType.I64 => MemoryMarshal.Cast<byte, long>(bytes).ToArray(),
            SafeTensorDType.I32 => Array.ConvertAll(MemoryMarshal.Cast<byte, int>(bytes).ToArray(), v => (long)v),
            SafeTensorDType.U8 or SafeTensorDType.BOOL => Array.ConvertAll(bytes.ToArray(), v => (long)v),
            _ => throw new SafeTensorsException(
                source.FileOf(name),
                name,
                $"dtype {info.DType} is not an integer type"
            ),
        };
    }

    /// <summary>Encodes float32 values in a floating-point dtype (BF16 rounds to nearest even, like torch).</summary>
    public static byte[] Encode(ReadOnlySpan<float> values, SafeTensorDType dtype) =>
        dtype switch
        {
            SafeTensorDType.F32 => MemoryMarshal.AsBytes(values).ToArray(),
            SafeTensorDType.F64 => MemoryMarshal.AsBytes<double>(ToArray(values, v => (double)v)).ToArray(),
            SafeTensorDType.BF16 => MemoryMarshal.AsBytes<ushort>(ToArray(values, FloatToBFloat16)).ToArray(),
            SafeTensorDType.F16 => MemoryMarshal.AsBytes<Half>(ToArray(values, v => (Half)v)).ToArray(),
            _ => throw new ArgumentException($"{dtype} is not a floating-point dtype", nameof(dtype)),
        };

    /// <summary>Encodes int64 values as I64 bytes.</summary>
    public static byte[] Encode(ReadOnlySpan<long> values) => MemoryMarshal.AsBytes(values).ToArray();

    /// <summary>bfloat16 is the upper half of a float32.</summary>
    public static float BFloat16ToFloat(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    /// <summary>float32 → bfloat16 with round-to-nearest-even; NaN stays a (quiet) NaN.</summary>
    public static ushort FloatToBFloat16(float value)
    {
        if (float.IsNaN(value))
            return 0x7FC0;
        uint bits = BitConverter.SingleToUInt32Bits(value);
        uint roundingBias = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + roundingBias) >> 16);
    }

    private static T[] ToArray<T>(ReadOnlySpan<float> values, Func<float, T> convert)
    {
        var result = new T[values.Length];
        for (int i = 0; i < values.Length; i++)
            result[i] = convert(values[i]);
        return result;
    }
}
