namespace AlignCluster.Torch.SafeTensors;

/// <summary>The bridge between safetensors files and <see cref="Tensor"/>s.</summary>
public static class SafeTensorsTensors
{
    /// <summary>The tensor dtype of a safetensors dtype.</summary>
    public static DType ToTorch(this SafeTensorDType dtype) => dtype switch
    {
        SafeTensorDType.F32 => DType.Float32,
        SafeTensorDType.F64 => DType.Float64,
        SafeTensorDType.BF16 => DType.BFloat16,
        SafeTensorDType.F16 => DType.Float16,
        SafeTensorDType.I64 => DType.Int64,
        SafeTensorDType.I32 => DType.Int32,
        SafeTensorDType.U8 => DType.UInt8,
        SafeTensorDType.BOOL => DType.Bool,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

    /// <summary>The safetensors dtype of a tensor dtype (Int8/Int16 have none we write).</summary>
    public static SafeTensorDType ToSafeTensors(this DType dtype) => dtype switch
    {
        DType.Float32 => SafeTensorDType.F32,
        DType.Float64 => SafeTensorDType.F64,
        DType.BFloat16 => SafeTensorDType.BF16,
        DType.Float16 => SafeTensorDType.F16,
        DType.Int64 => SafeTensorDType.I64,
        DType.Int32 => SafeTensorDType.I32,
        DType.UInt8 => SafeTensorDType.U8,
        DType.Bool => SafeTensorDType.BOOL,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "no safetensors dtype for this tensor dtype"),
    };

    /// <summary>
    /// Creates a CPU tensor holding a copy of the named tensor's bytes (one copy: mapped file → tensor storage).
    /// </summary>
    public static Tensor ReadTensor(this ISafeTensorSource source, string name)
    {
        var info = source.Info(name);
        return Tensor.FromBytes(info.DType.ToTorch(), info.Shape, source.Bytes(name));
    }

    /// <summary>
    /// Copies the named tensor into <paramref name="target"/> (converting dtype and device), after checking its shape;
    /// the error names file, tensor and both shapes.
    /// </summary>
    public static void CopyInto(this ISafeTensorSource source, string name, Tensor target)
    {
        var info = source.Info(name);
        var shape = target.Shape;
        if (!info.Shape.SequenceEqual(shape))
            throw new SafeTensorsException(source.FileOf(name), name,
                $"shape {SafeTensorDTypes.FormatShape(info.Shape)} does not match the expected {SafeTensorDTypes.FormatShape(shape)}");
        using var noGrad = Autograd.NoGrad();
        using var loaded = ReadTensor(source, name);
        target.Copy_(loaded);
    }

    /// <summary>An entry that writes <paramref name="tensor"/>'s bytes (copied out to the CPU when it is written).</summary>
    public static SafeTensorEntry ToEntry(string name, Tensor tensor)
    {
        var dtype = tensor.DType.ToSafeTensors();
        return new SafeTensorEntry(name, dtype, tensor.Shape, tensor.ByteCount, stream => stream.Write(tensor.ToBytes()));
    }

    /// <summary>Writes tensors (in order) to one safetensors file atomically.</summary>
    public static void Save(string path, IEnumerable<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        SafeTensorsWriter.Write(path, tensors.Select(t => ToEntry(t.Name, t.Tensor)), metadata);
}
