using AlignCluster.Torch.Native;

namespace AlignCluster.Torch;

/// <summary>
/// A number passed to an op (fill value, clamp bound, right-hand side of <c>x * 2</c>). Integers stay integers, so
/// <c>intTensor + 1</c> stays Int64 while <c>intTensor + 1.5</c> promotes, as in PyTorch.
/// </summary>
public readonly struct Scalar
{
    internal readonly NativeScalar Value;

    private Scalar(NativeScalar value) => Value = value;

    /// <summary>A floating-point scalar.</summary>
    public static implicit operator Scalar(double v) => new(new NativeScalar(v, 0, 0));
    /// <summary>A floating-point scalar.</summary>
    public static implicit operator Scalar(float v) => new(new NativeScalar(v, 0, 0));
    /// <summary>An integer scalar.</summary>
    public static implicit operator Scalar(long v) => new(new NativeScalar(v, v, 1));
    /// <summary>An integer scalar.</summary>
    public static implicit operator Scalar(int v) => new(new NativeScalar(v, v, 1));
    /// <summary>A boolean scalar.</summary>
    public static implicit operator Scalar(bool v) => new(new NativeScalar(v ? 1 : 0, v ? 1 : 0, 2));

    /// <summary>True for a floating-point value (not an integer or bool).</summary>
    public bool IsFloatingPoint => Value.Kind == 0;

    /// <inheritdoc />
    public override string ToString() => Value.Kind switch { 1 => Value.I.ToString(), 2 => (Value.I != 0).ToString(), _ => Value.D.ToString("R") };
}
