namespace AlignCluster.Models.SafeTensors;

/// <summary>One header entry: a tensor's dtype, shape and byte range relative to the start of the data
/// section.</summary>
public sealed record SafeTensorInfo(string Name, SafeTensorDType DType, long[] Shape, long Begin, long End)
{
    /// <summary>Byte count of the tensor's data.</summary>
    public long ByteCount => End - Begin;

    /// <summary>Number of elements.</summary>
    public long ElementCount => SafeTensorDTypes.ElementCount(Shape);

    /// <summary>True when dtype and shape equal the given ones.</summary>
    public bool Matches(SafeTensorDType dtype, IReadOnlyList<long> shape) =>
        DType == dtype && Shape.SequenceEqual(shape);
}
