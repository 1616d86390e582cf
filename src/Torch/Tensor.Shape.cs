using static AlignCluster.Torch.Native.NativeMethods;

namespace AlignCluster.Torch;

// Shape changes, joining/splitting and indexing. View-like results share storage with this tensor.
public partial class Tensor
{
    /// <summary>Same data, new shape (no copy; one dim may be −1). Needs a compatible layout; see <see cref="Reshape"/>.</summary>
    public unsafe Tensor View(params ReadOnlySpan<long> shape)
    {
        fixed (long* s = shape) return Wrap(act_view(this, s, shape.Length));
    }

    /// <summary>New shape, copying only when the layout requires it.</summary>
    public unsafe Tensor Reshape(params ReadOnlySpan<long> shape)
    {
        fixed (long* s = shape) return Wrap(act_reshape(this, s, shape.Length));
    }

    /// <summary>Broadcasts size-1 dims to <paramref name="shape"/> without copying (−1 keeps a dim).</summary>
    public unsafe Tensor Expand(params ReadOnlySpan<long> shape)
    {
        fixed (long* s = shape) return Wrap(act_expand(this, s, shape.Length));
    }

    /// <summary>Tiles the tensor <paramref name="repeats"/>[i] times along dim i (copies).</summary>
    public unsafe Tensor Repeat(params ReadOnlySpan<long> repeats)
    {
        fixed (long* s = repeats) return Wrap(act_repeat(this, s, repeats.Length));
    }

    /// <summary>Reorders dims: result dim i is this tensor's dim <paramref name="dims"/>[i].</summary>
    public unsafe Tensor Permute(params ReadOnlySpan<long> dims)
    {
        fixed (long* s = dims) return Wrap(act_permute(this, s, dims.Length));
    }

    /// <summary>Swaps two dims.</summary>
    public Tensor Transpose(long dim0, long dim1) => Wrap(act_transpose(this, dim0, dim1));
    /// <summary>Transpose of a matrix (swaps the last two dims).</summary>
    public Tensor T() => Transpose(-2, -1);
    /// <summary>A row-major copy, or this tensor's data when already contiguous.</summary>
    public Tensor Contiguous() => Wrap(act_contiguous(this));
    /// <summary>Inserts a size-1 dim at <paramref name="dim"/>.</summary>
    public Tensor Unsqueeze(long dim) => Wrap(act_unsqueeze(this, dim));
    /// <summary>Removes dim <paramref name="dim"/> if its size is 1.</summary>
    public Tensor Squeeze(long dim) => Wrap(act_squeeze(this, dim, 1));
    /// <summary>Removes every size-1 dim.</summary>
    public Tensor Squeeze() => Wrap(act_squeeze(this, 0, 0));
    /// <summary>Merges dims <paramref name="startDim"/>…<paramref name="endDim"/> into one.</summary>
    public Tensor Flatten(long startDim = 0, long endDim = -1) => Wrap(act_flatten(this, startDim, endDim));
    /// <summary>A copy with its own storage (gradient flows back to this tensor).</summary>
    public Tensor Clone() => Wrap(act_clone(this));

    /// <summary>Concatenates along an existing dim.</summary>
    public static Tensor Cat(IReadOnlyList<Tensor> tensors, long dim = 0) => Join(tensors, dim, stack: false);

    /// <summary>Stacks along a new dim.</summary>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, long dim = 0) => Join(tensors, dim, stack: true);

    private static unsafe Tensor Join(IReadOnlyList<Tensor> tensors, long dim, bool stack)
    {
        var handles = tensors.Count <= 64 ? stackalloc nint[tensors.Count] : new nint[tensors.Count];
        for (var i = 0; i < tensors.Count; i++) handles[i] = tensors[i].Handle;
        nint result;
        fixed (nint* h = handles) result = stack ? act_stack(h, handles.Length, dim) : act_cat(h, handles.Length, dim);
        GC.KeepAlive(tensors);
        return Wrap(result);
    }

    /// <summary>Pieces of <paramref name="size"/> along <paramref name="dim"/> (the last may be smaller); views.</summary>
    public unsafe Tensor[] Split(long size, long dim = 0)
    {
        int count;
        return TakeArray(act_split(this, size, dim, &count), count);
    }

    /// <summary>At most <paramref name="chunks"/> near-equal pieces along <paramref name="dim"/>; views.</summary>
    public unsafe Tensor[] Chunk(long chunks, long dim = 0)
    {
        int count;
        return TakeArray(act_chunk(this, chunks, dim, &count), count);
    }

    /// <summary>Takes ownership of a native array of new tensor handles (frees the array).</summary>
    internal static unsafe Tensor[] TakeArray(nint* handles, int count)
    {
        if (handles == null) TorchException.ThrowLast();
        var result = new Tensor[count];
        for (var i = 0; i < count; i++) result[i] = new Tensor(handles[i]);
        act_free_buffer((nint)handles);
        return result;
    }

    /// <summary>Picks values along <paramref name="dim"/> at <paramref name="index"/> (same rank as this tensor).</summary>
    public Tensor Gather(long dim, Tensor index) => Wrap(act_gather(this, dim, index));
    /// <summary>A copy with <paramref name="source"/> values written at <paramref name="index"/> along <paramref name="dim"/>.</summary>
    public Tensor Scatter(long dim, Tensor index, Tensor source) => Wrap(act_scatter(this, dim, index, source));
    /// <summary>The slices at the Int64 <paramref name="index"/> positions along <paramref name="dim"/>.</summary>
    public Tensor IndexSelect(long dim, Tensor index) => Wrap(act_index_select(this, dim, index));
    /// <summary>Upper triangle (elements below diagonal <paramref name="diagonal"/> zeroed).</summary>
    public Tensor Triu(long diagonal = 0) => Wrap(act_triu(this, diagonal));
    /// <summary>Lower triangle (elements above diagonal <paramref name="diagonal"/> zeroed).</summary>
    public Tensor Tril(long diagonal = 0) => Wrap(act_tril(this, diagonal));
    /// <summary>Elements [start, start+length) of <paramref name="dim"/>; a view.</summary>
    public Tensor Narrow(long dim, long start, long length) => Wrap(act_narrow(this, dim, start, length));
    /// <summary>The slice at <paramref name="index"/> of <paramref name="dim"/>, which is removed; a view.</summary>
    public Tensor Select(long dim, long index) => Wrap(act_select(this, dim, index));
    /// <summary>Python's x[start:end:step] along <paramref name="dim"/>; a view. Negative bounds count from the end.</summary>
    public Tensor Slice(long dim, long start, long end = long.MaxValue, long step = 1) => Wrap(act_slice(this, dim, start, end, step));

    /// <summary>
    /// Pads with a constant. <paramref name="pad"/> lists (before, after) pairs starting from the LAST dim,
    /// as torch.nn.functional.pad does.
    /// </summary>
    public unsafe Tensor Pad(ReadOnlySpan<long> pad, Scalar value)
    {
        fixed (long* p = pad) return Wrap(act_pad(this, p, pad.Length, value.Value));
    }

    /// <summary>Matrix product with broadcasting (vector, matrix and batched forms).</summary>
    public Tensor MatMul(Tensor other) => Wrap(act_matmul(this, other));
    /// <summary>Product of two matrices.</summary>
    public Tensor Mm(Tensor other) => Wrap(act_mm(this, other));
    /// <summary>Batched product: (B, n, m) × (B, m, p) → (B, n, p).</summary>
    public Tensor Bmm(Tensor other) => Wrap(act_bmm(this, other));
}
