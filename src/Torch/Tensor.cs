using System.Runtime.InteropServices;
using AlignCluster.Torch.Native;
using static AlignCluster.Torch.Native.NativeMethods;

namespace AlignCluster.Torch;

/// <summary>
/// An n-dimensional array in libtorch, with autograd. Each instance owns one native handle, released by
/// <see cref="IDisposable.Dispose"/>, by the <see cref="DisposeScope"/> it was created in, or (last resort) by
/// the finalizer. Ops return new tensors; methods ending in an underscore (<c>Add_</c>) modify in place.
/// </summary>
/// <remarks>
/// Tensors created while a <see cref="DisposeScope"/> is open on the thread belong to that scope and are
/// disposed when it ends, unless moved out with <see cref="MoveToOuterScope"/> or <see cref="DetachFromScope"/>.
/// A tensor may be used from any thread, but not disposed on one thread while another uses it.
/// </remarks>
public partial class Tensor : SafeHandle
{
    /// <summary>The scope that will dispose this tensor, if any.</summary>
    internal DisposeScope? Scope;

    /// <summary>Takes ownership of a native handle and joins the current dispose scope.</summary>
    internal Tensor(nint handle) : base(0, ownsHandle: true)
    {
        SetHandle(handle);
        DisposeScope.Current?.Add(this);
    }

    /// <inheritdoc />
    public override bool IsInvalid => handle == 0;

    /// <inheritdoc />
    protected override bool ReleaseHandle()
    {
        act_free(handle);
        return true;
    }

    /// <summary>The raw handle for calls that take optional tensors or arrays (caller keeps the tensor alive).</summary>
    internal nint Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            return handle;
        }
    }

    internal static nint HandleOrZero(Tensor? t) => t is null ? 0 : t.Handle;

    /// <summary>Native handles of a list of tensors (the caller keeps the tensors alive while they are used).</summary>
    internal static nint[] Handles(IReadOnlyList<Tensor> tensors)
    {
        var result = new nint[tensors.Count];
        for (var i = 0; i < result.Length; i++) result[i] = tensors[i].Handle;
        return result;
    }

    // ------------------------------------------------------------------ metadata

    /// <summary>Number of dimensions.</summary>
    public int Dim => act_dim(this);

    /// <summary>Number of elements.</summary>
    public long NumElements => act_numel(this);

    /// <summary>The size of every dimension (a new array each call; see <see cref="Size"/>).</summary>
    public unsafe long[] Shape
    {
        get
        {
            Span<long> buffer = stackalloc long[16];
            int n;
            fixed (long* p = buffer) n = act_shape(this, p, buffer.Length);
            if (n <= buffer.Length) return buffer[..n].ToArray();
            var shape = new long[n];
            fixed (long* p = shape) act_shape(this, p, n);
            return shape;
        }
    }

    /// <summary>The size of dimension <paramref name="dim"/> (negative counts from the end).</summary>
    public long Size(int dim)
    {
        var s = act_size(this, dim);
        if (s < 0) TorchException.ThrowLast();
        return s;
    }

    /// <summary>The element type.</summary>
    public DType DType => (DType)act_dtype(this);

    /// <summary>Where the data lives.</summary>
    public Device Device => new((DeviceType)act_device_type(this), act_device_index(this));

    /// <summary>Bytes per element.</summary>
    public int ElementSize => (int)act_element_size(this);

    /// <summary>Bytes of element data: <see cref="NumElements"/> × <see cref="ElementSize"/>.</summary>
    public long ByteCount => NumElements * ElementSize;

    /// <summary>True when the elements are laid out row-major without gaps.</summary>
    public bool IsContiguous => act_is_contiguous(this) != 0;

    // ------------------------------------------------------------------ scopes

    /// <summary>
    /// Hands this tensor to the scope enclosing its current one (or to no scope, when that was the outermost),
    /// so it survives the end of the current scope. Returns this tensor.
    /// </summary>
    public Tensor MoveToOuterScope()
    {
        Scope?.MoveOut(this);
        return this;
    }

    /// <summary>Removes this tensor from every dispose scope; the caller disposes it. Returns this tensor.</summary>
    public Tensor DetachFromScope()
    {
        Scope = null;
        return this;
    }

    /// <summary>A short description: shape, dtype, device (see <see cref="ToDataString"/> for the values).</summary>
    public override string ToString() =>
        IsClosed ? "Tensor(disposed)" : $"Tensor([{string.Join(", ", Shape)}], {DType}, {Device})";

    /// <summary>libtorch's printout of the values.</summary>
    public string ToDataString()
    {
        var p = act_to_string(this);
        if (p == 0) TorchException.ThrowLast();
        try { return Marshal.PtrToStringUTF8(p) ?? ""; }
        finally { act_free_buffer(p); }
    }
}
