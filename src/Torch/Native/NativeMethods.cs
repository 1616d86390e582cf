using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AlignCluster.Torch.Native;

/// <summary>
/// P/Invoke declarations of the native shim (native/*.cpp, native/shim.h). Required tensors are passed as
/// <see cref="Tensor"/> (a SafeHandle, kept alive and ref-counted for the call); optional tensors and tensor
/// arrays as raw handles, kept alive by the caller. Functions returning a handle return 0 on failure (see
/// <see cref="TorchException"/>); status functions return -1.
/// </summary>
internal static unsafe partial class NativeMethods
{
    internal const string Library = "aligncluster_torch";

    static NativeMethods() => NativeLoader.Initialize();

    // Errors, handles, runtime. SuppressGCTransition only on short functions that never block or call back.
    [LibraryImport(Library), SuppressGCTransition] internal static partial nint act_last_error();
    [LibraryImport(Library), SuppressGCTransition] internal static partial void act_clear_error();
    [LibraryImport(Library)] internal static partial void act_free(nint t);
    [LibraryImport(Library)] internal static partial void act_free_buffer(nint p);
    [LibraryImport(Library)] internal static partial nint act_version();
    [LibraryImport(Library)] internal static partial int act_has_fused_sdpa();
    [LibraryImport(Library)] internal static partial int act_set_num_threads(int n);
    [LibraryImport(Library)] internal static partial int act_get_num_threads();
    [LibraryImport(Library)] internal static partial int act_cuda_device_count();
    [LibraryImport(Library)] internal static partial int act_manual_seed(ulong seed);
    [LibraryImport(Library)] internal static partial nint act_generator_new(ulong seed);
    [LibraryImport(Library)] internal static partial void act_generator_free(nint g);
    [LibraryImport(Library)] internal static partial int act_generator_set_seed(nint g, ulong seed);
    [LibraryImport(Library), SuppressGCTransition] internal static partial int act_grad_enabled();
    [LibraryImport(Library), SuppressGCTransition] internal static partial void act_set_grad_enabled(int on);

    // Metadata: trivial field reads that cannot fail or block, so they skip the GC transition.
    [LibraryImport(Library), SuppressGCTransition] internal static partial int act_dim(Tensor t);
    [LibraryImport(Library), SuppressGCTransition] internal static partial long act_numel(Tensor t);
    [LibraryImport(Library), SuppressGCTransition] internal static partial int act_shape(Tensor t, long* output, int capacity);
    [LibraryImport(Library)] internal static partial long act_size(Tensor t, int dim);
    [LibraryImport(Library), SuppressGCTransition] internal static partial int act_dtype(Tensor t);
    [LibraryImport(Library), SuppressGCTransition] internal static partial int act_device_type(Tensor t);
    [LibraryImport(Library), SuppressGCTransition] internal static partial int act_device_index(Tensor t);
    [LibraryImport(Library), SuppressGCTransition] internal static partial int act_requires_grad(Tensor t);
    [LibraryImport(Library), SuppressGCTransition] internal static partial int act_is_leaf(Tensor t);
    [LibraryImport(Library), SuppressGCTransition] internal static partial int act_is_contiguous(Tensor t);
    [LibraryImport(Library), SuppressGCTransition] internal static partial long act_element_size(Tensor t);
    [LibraryImport(Library)] internal static partial nint act_data_ptr(Tensor t);
    [LibraryImport(Library)] internal static partial nint act_to_string(Tensor t);

    // Creation
    [LibraryImport(Library)] internal static partial nint act_empty(long* shape, int n, int dtype, int deviceType, int deviceIndex, int requiresGrad);
    [LibraryImport(Library)] internal static partial nint act_full(long* shape, int n, NativeScalar value, int dtype, int deviceType, int deviceIndex, int requiresGrad);
    [LibraryImport(Library)] internal static partial nint act_arange(NativeScalar start, NativeScalar end, NativeScalar step, int dtype, int deviceType, int deviceIndex, int requiresGrad);
    [LibraryImport(Library)] internal static partial nint act_random(int kind, long* shape, int n, nint generator, int dtype, int deviceType, int deviceIndex, int requiresGrad);
    [LibraryImport(Library)] internal static partial nint act_randint(long low, long high, long* shape, int n, nint generator, int dtype, int deviceType, int deviceIndex);
    [LibraryImport(Library)] internal static partial nint act_like(int kind, Tensor t);
    [LibraryImport(Library)] internal static partial nint act_full_like(Tensor t, NativeScalar value);
    [LibraryImport(Library)] internal static partial nint act_from_bytes(void* data, long byteCount, long* shape, int n, int dtype);
    [LibraryImport(Library)] internal static partial int act_copy_to_bytes(Tensor t, void* destination, long byteCount);
    [LibraryImport(Library)] internal static partial int act_item_double(Tensor t, double* value);
    [LibraryImport(Library)] internal static partial int act_item_long(Tensor t, long* value);

    // Elementwise
    [LibraryImport(Library)] internal static partial nint act_unary(UnaryOp op, Tensor x);
    [LibraryImport(Library)] internal static partial nint act_softplus(Tensor x, double beta, double threshold);
    [LibraryImport(Library)] internal static partial nint act_binary(BinaryOp op, Tensor a, Tensor b);
    [LibraryImport(Library)] internal static partial nint act_binary_scalar(BinaryOp op, Tensor a, NativeScalar b);
    [LibraryImport(Library)] internal static partial nint act_scalar_binary(BinaryOp op, NativeScalar a, Tensor b);
    [LibraryImport(Library)] internal static partial int act_binary_(BinaryOp op, Tensor a, Tensor b);
    [LibraryImport(Library)] internal static partial int act_binary_scalar_(BinaryOp op, Tensor a, NativeScalar b);
    [LibraryImport(Library)] internal static partial nint act_clamp(Tensor x, NativeScalar min, int hasMin, NativeScalar max, int hasMax);
    [LibraryImport(Library)] internal static partial nint act_where(Tensor condition, Tensor a, Tensor b);
    [LibraryImport(Library)] internal static partial nint act_where_scalar(Tensor condition, Tensor a, NativeScalar b);
    [LibraryImport(Library)] internal static partial nint act_masked_fill(Tensor x, Tensor mask, NativeScalar value);
    [LibraryImport(Library)] internal static partial int act_allclose(Tensor a, Tensor b, double rtol, double atol);
    [LibraryImport(Library)] internal static partial int act_equal(Tensor a, Tensor b);

    // In-place state changes
    [LibraryImport(Library)] internal static partial int act_copy_(Tensor destination, Tensor source);
    [LibraryImport(Library)] internal static partial int act_fill_(Tensor t, NativeScalar value);
    [LibraryImport(Library)] internal static partial int act_zero_(Tensor t);
    [LibraryImport(Library)] internal static partial int act_normal_(Tensor t, double mean, double std, nint generator);
    [LibraryImport(Library)] internal static partial int act_uniform_(Tensor t, double from, double to, nint generator);
    [LibraryImport(Library)] internal static partial int act_set_data(Tensor t, Tensor data);

    // Reductions
    [LibraryImport(Library)] internal static partial nint act_reduce_all(ReduceOp op, Tensor x);
    [LibraryImport(Library)] internal static partial nint act_reduce_dims(ReduceOp op, Tensor x, long* dims, int n, int keepDim);
    [LibraryImport(Library)] internal static partial nint act_arg_reduce(int kind, Tensor x, long dim, int hasDim, int keepDim);
    [LibraryImport(Library)] internal static partial nint act_minmax_dim(int kind, Tensor x, long dim, int keepDim, nint* indices);
    [LibraryImport(Library)] internal static partial nint act_softmax(Tensor x, long dim);
    [LibraryImport(Library)] internal static partial nint act_log_softmax(Tensor x, long dim);
    [LibraryImport(Library)] internal static partial nint act_cumsum(Tensor x, long dim);
    [LibraryImport(Library)] internal static partial nint act_topk(Tensor x, long k, long dim, int largest, int sorted, nint* indices);
    [LibraryImport(Library)] internal static partial nint act_sort(Tensor x, long dim, int descending, nint* indices);
    [LibraryImport(Library)] internal static partial nint act_multinomial(Tensor probabilities, long samples, int replacement, nint generator);

    // Indexing
    [LibraryImport(Library)] internal static partial nint act_gather(Tensor x, long dim, Tensor index);
    [LibraryImport(Library)] internal static partial nint act_scatter(Tensor x, long dim, Tensor index, Tensor source);
    [LibraryImport(Library)] internal static partial nint act_index_select(Tensor x, long dim, Tensor index);
    [LibraryImport(Library)] internal static partial nint act_embedding(Tensor weight, Tensor indices, long paddingIndex);
    [LibraryImport(Library)] internal static partial nint act_triu(Tensor x, long diagonal);
    [LibraryImport(Library)] internal static partial nint act_tril(Tensor x, long diagonal);
    [LibraryImport(Library)] internal static partial nint act_narrow(Tensor x, long dim, long start, long length);
    [LibraryImport(Library)] internal static partial nint act_select(Tensor x, long dim, long index);
    [LibraryImport(Library)] internal static partial nint act_slice(Tensor x, long dim, long start, long end, long step);
    [LibraryImport(Library)] internal static partial nint act_pad(Tensor x, long* pad, int n, NativeScalar value);

    // Shape
    [LibraryImport(Library)] internal static partial nint act_view(Tensor x, long* shape, int n);
    [LibraryImport(Library)] internal static partial nint act_reshape(Tensor x, long* shape, int n);
    [LibraryImport(Library)] internal static partial nint act_expand(Tensor x, long* shape, int n);
    [LibraryImport(Library)] internal static partial nint act_repeat(Tensor x, long* repeats, int n);
    [LibraryImport(Library)] internal static partial nint act_permute(Tensor x, long* dims, int n);
    [LibraryImport(Library)] internal static partial nint act_transpose(Tensor x, long dim0, long dim1);
    [LibraryImport(Library)] internal static partial nint act_contiguous(Tensor x);
    [LibraryImport(Library)] internal static partial nint act_unsqueeze(Tensor x, long dim);
    [LibraryImport(Library)] internal static partial nint act_squeeze(Tensor x, long dim, int hasDim);
    [LibraryImport(Library)] internal static partial nint act_flatten(Tensor x, long startDim, long endDim);
    [LibraryImport(Library)] internal static partial nint act_clone(Tensor x);
    [LibraryImport(Library)] internal static partial nint act_to(Tensor x, int dtype, int deviceType, int deviceIndex);
    [LibraryImport(Library)] internal static partial nint act_cat(nint* tensors, int n, long dim);
    [LibraryImport(Library)] internal static partial nint act_stack(nint* tensors, int n, long dim);
    [LibraryImport(Library)] internal static partial nint* act_split(Tensor x, long size, long dim, int* count);
    [LibraryImport(Library)] internal static partial nint* act_chunk(Tensor x, long chunks, long dim, int* count);

    // Linear algebra and nn
    [LibraryImport(Library)] internal static partial nint act_matmul(Tensor a, Tensor b);
    [LibraryImport(Library)] internal static partial nint act_mm(Tensor a, Tensor b);
    [LibraryImport(Library)] internal static partial nint act_bmm(Tensor a, Tensor b);
    [LibraryImport(Library)] internal static partial nint act_linear(Tensor x, Tensor weight, nint bias);
    [LibraryImport(Library)] internal static partial nint act_layer_norm(Tensor x, long* shape, int n, nint weight, nint bias, double eps);
    [LibraryImport(Library)] internal static partial nint act_dropout(Tensor x, double p, int train);
    [LibraryImport(Library)] internal static partial nint act_cross_entropy(Tensor logits, Tensor target, long reduction, long ignoreIndex, double labelSmoothing);
    [LibraryImport(Library)] internal static partial nint act_mse_loss(Tensor a, Tensor b, long reduction);
    [LibraryImport(Library)] internal static partial nint act_sdpa(Tensor q, Tensor k, Tensor v, nint mask, double dropoutP, int causal, int allowFused);

    // Autograd
    [LibraryImport(Library)] internal static partial int act_set_requires_grad(Tensor t, int on);
    [LibraryImport(Library)] internal static partial int act_backward(Tensor t, nint gradient, int retainGraph, int createGraph);
    [LibraryImport(Library)] internal static partial nint act_grad(Tensor t);
    [LibraryImport(Library)] internal static partial int act_set_grad(Tensor t, nint gradient);
    [LibraryImport(Library)] internal static partial int act_retain_grad(Tensor t);
    [LibraryImport(Library)] internal static partial nint act_detach(Tensor t);

    // Optimizers
    [LibraryImport(Library)] internal static partial int act_adamw_step(nint* parameters, nint* expAvg, nint* expAvgSq, int n, double lr, double beta1, double beta2, double eps, double weightDecay, long step);
    [LibraryImport(Library)] internal static partial int act_sgd_step(nint* parameters, nint* momentumBuffers, int n, double lr, double momentum, double dampening, double weightDecay, int nesterov, int first);
    [LibraryImport(Library)] internal static partial int act_clip_grad_norm(nint* parameters, int n, double maxNorm, double* totalNorm);

    /// <summary>Turns a returned handle into a tensor, or throws the pending libtorch error.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Tensor Wrap(nint handle)
    {
        if (handle == 0) TorchException.ThrowLast();
        return new Tensor(handle);
    }

    /// <summary>Throws the pending libtorch error when a status function failed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Check(int status)
    {
        if (status < 0) TorchException.ThrowLast();
    }
}

/// <summary>Elementwise unary ops; values match the shim's <c>Unary</c> enum.</summary>
internal enum UnaryOp
{
    Neg, Exp, Log, Log1p, Sigmoid, LogSigmoid, Tanh, Relu, Silu, Gelu, GeluTanh, Abs, Sqrt, Rsqrt, Square, Sin, Cos,
    Reciprocal, Sign, LogicalNot, Expm1, Floor, Ceil, IsNan, Round, Erf, IsFinite,
}

/// <summary>Elementwise binary ops; values match the shim's <c>Binary</c> enum.</summary>
internal enum BinaryOp
{
    Add, Sub, Mul, Div, Pow, Maximum, Minimum, Eq, Ne, Lt, Le, Gt, Ge, LogicalAnd, LogicalOr, Remainder, FloorDivide,
}

/// <summary>Reductions; values match the shim's <c>Reduce</c> enum.</summary>
internal enum ReduceOp { Sum, Mean, Amax, Amin, LogSumExp, Prod, Var, Std, Norm, Any, All }

/// <summary>The shim's blittable scalar: kind 0 = double, 1 = int64, 2 = bool.</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct NativeScalar(double d, long i, int kind)
{
    public readonly double D = d;
    public readonly long I = i;
    public readonly int Kind = kind;
}
