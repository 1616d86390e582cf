namespace AlignCluster.Models.SafeTensors;

/// <summary>Element types a safetensors file can hold (the names are the header's <c>dtype</c> strings).</summary>
public enum SafeTensorDType
{
    F32,
    F64,
    BF16,
    F16,
    I64,
    I32,
    U8,
    BOOL,
}

/// <summary>Header names and element sizes of <see cref="SafeTensorDType"/>.</summary>
public static class SafeTensorDTypes
{
    /// <summary>Bytes per element.</summary>
    public static int ElementSize(this SafeTensorDType dtype) =>
        dtype switch
        {
            SafeTensorDType.F64 or SafeTensorDType.I64 => 8,
            SafeTensorDType.F32 or SafeTensorDType.I32 => 4,
            SafeTensorDType.BF16 or SafeTensorDType.F16 => 2,
            SafeTensorDType.U8 or SafeTensorDType.BOOL => 1,
            _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
        };

    /// <summary>The header spelling, e.g. "BF16".</summary>
    public static string HeaderName(this SafeTensorDType dtype) => dtype.ToString();

    /// <summary>Parses a header dtype string; returns false for types we do not support.</summary>
    public static bool TryParse(string name, out SafeTensorDType dtype) =>
        Enum.TryParse(name, ignoreCase: false, out dtype) && Enum.IsDefined(dtype);

    /// <summary>Number of elements of a shape (1 for a scalar, i.e. an empty shape).</summary>
    public static long ElementCount(IReadOnlyList<long> shape)
    {
        long n = 1;
        foreach (var d in shape)
            n = checked(n * d);
        return n;
    }

    /// <summary>"[2, 3]" — how shapes appear in our error messages.</summary>
    public static string FormatShape(IReadOnlyList<long> shape) => "[" + string.Join(", ", shape) + "]";
}
