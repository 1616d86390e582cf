using AlignCluster.Models.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Models.SafeTensors;

/// <summary>
/// The bridge between our memory-mapped safetensors files and TorchSharp tensors. We keep our own reader/writer
/// rather than TorchSharp.PyBridge's: PyBridge copies through a 1 KiB buffer (a 256 MiB file took 4.3 s and peaked at
/// twice its size; ours maps the file and copies once, 0.33 s), its save does not truncate an existing file, and a
/// name mismatch with strict:false silently loads nothing.
/// </summary>
public static class SafeTensorsTensors
{
    /// <summary>The tensor dtype of a safetensors dtype.</summary>
    public static ScalarType ToTorch(this SafeTensorDType dtype) =>
        dtype switch
        {
            SafeTensorDType.F32 => ScalarType.Float32,
            SafeTensorDType.F64 => ScalarType.Float64,
            SafeTensorDType.BF16 => ScalarType.BFloat16,
            SafeTensorDType.F16 => ScalarType.Float16,
            SafeTensorDType.I64 => ScalarType.Int64,
            SafeTensorDType.I32 => ScalarType.Int32,
            SafeTensorDType.U8 => ScalarType.Byte,
            SafeTensorDType.BOOL => ScalarType.Bool,
            _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
        };

    /// <summary>The safetensors dtype of a tensor dtype (Int8/Int16 have none we write).</summary>
    public static SafeTensorDType ToSafeTensors(this ScalarType dtype) =>
        dtype switch
        {
            ScalarType.Float32 => SafeTensorDType.F32,
            ScalarType.Float64 => SafeTensorDType.F64,
            ScalarType.BFloat16 => SafeTensorDType.BF16,
            ScalarType.Float16 => SafeTensorDType.F16,
            ScalarType.Int64 => SafeTensorDType.I64,
            ScalarType.Int32 => SafeTensorDType.I32,
            ScalarType.Byte => SafeTensorDType.U8,
            ScalarType.Bool => SafeTensorDType.BOOL,
            _ => throw new ArgumentOutOfRangeException(
                nameof(dtype),
                dtype,
                "no safetensors dtype for this tensor dtype"
            ),
        };

    /// <summary>
    /// Creates a CPU tensor holding a copy of the named tensor's bytes (one copy: mapped file → tensor storage).
    /// </summary>
    public static Tensor ReadTensor(this ISafeTensorSource source, string name)
    {
        var info = source.Info(name);
        var tensor = torch.empty(info.Shape, dtype: info.DType.ToTorch());
        CopyBytes(source.Bytes(name), tensor);
        return tensor;
    }

    /// <summary>
    /// Copies the named tensor into <paramref name="target"/> (converting dtype and device), after checking its shape;
    /// the error names file, tensor and both shapes. A contiguous CPU target of the file's dtype is filled straight
    /// from the mapped file.
    /// </summary>
    public static void CopyInto(this ISafeTensorSource source, string name, Tensor target)
    {
        var info = source.Info(name);
        var shape = target.shape;
        if (!info.Shape.SequenceEqual(shape))
            throw new SafeTensorsException(
                source.FileOf(name),
                name,
                $"shape {SafeTensorDTypes.FormatShape(info.Shape)} does not match the expected {SafeTensorDTypes.FormatShape(shape)}"
            );
        using var noGrad = torch.no_grad();
        if (target.device_type == DeviceType.CPU && target.dtype == info.DType.ToTorch() && target.is_contiguous())
        {
            CopyBytes(source.Bytes(name), target);
            return;
        }
        using var loaded = ReadTensor(source, name);
        target.copy_(loaded);
    }

    private static unsafe void CopyBytes(ReadOnlySpan<byte> bytes, Tensor contiguousCpu)
    {
        long expected = contiguousCpu.numel() * contiguousCpu.ElementSize;
        if (bytes.Length != expected)
            throw new InvalidOperationException($"{bytes.Length} bytes for a tensor of {expected}");
        if (expected == 0)
            return;
        bytes.CopyTo(new Span<byte>((void*)TorchGaps.DataPointer(contiguousCpu), bytes.Length));
    }

    /// <summary>An entry that writes <paramref name="tensor"/>'s bytes (copied out to the CPU when it is
    /// written).</summary>
    public static SafeTensorEntry ToEntry(string name, Tensor tensor)
    {
        var dtype = tensor.dtype.ToSafeTensors();
        return new SafeTensorEntry(name, dtype, tensor.shape, tensor.numel() * tensor.ElementSize, stream =>
            WriteBytes(tensor, stream)
        );
    }

    private static unsafe void WriteBytes(Tensor tensor, Stream stream)
    {
        using var cpu = tensor.detach().cpu().contiguous();
        long count = cpu.numel() * cpu.ElementSize;
        byte* p = (byte*)TorchGaps.DataPointer(cpu);
        for (long offset = 0; offset < count; offset += int.MaxValue)
            stream.Write(new ReadOnlySpan<byte>(p + offset, (int)Math.Min(int.MaxValue, count - offset)));
    }

    /// <summary>Writes tensors (in order) to one safetensors file atomically.</summary>
    public static void Save(
        string path,
        IEnumerable<(string Name, Tensor Tensor)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null
    ) => SafeTensorsWriter.Write(path, tensors.Select(t => ToEntry(t.Name, t.Tensor)), metadata);
}
