namespace AlignCluster.Torch.Tests;

/// <summary>libtorch errors arrive as TorchException carrying libtorch's own message.</summary>
public class ErrorTests
{
    [Fact]
    public void Matmul_shape_mismatch_carries_libtorch_message()
    {
        using var scope = DisposeScope.Begin();
        var a = Tensor.Zeros([2, 3]);
        var b = Tensor.Zeros([4, 5]);
        var e = Assert.Throws<TorchException>(() => a.MatMul(b));
        // libtorch 1.13's message text (at::native::linear_algebra: "mat1 and mat2 shapes cannot be multiplied").
        Assert.Contains("shapes cannot be multiplied (2x3 and 4x5)", e.Message);
        Assert.DoesNotContain("Exception raised from", e.Message); // what_without_backtrace: no C++ backtrace
    }

    [Fact]
    public void Broadcast_mismatch_carries_libtorch_message()
    {
        using var scope = DisposeScope.Begin();
        var e = Assert.Throws<TorchException>(() => Tensor.Ones([3]) + Tensor.Ones([4]));
        Assert.Contains("The size of tensor a (3) must match the size of tensor b (4)", e.Message);
    }

    [Fact]
    public void View_of_wrong_size_and_bad_dim_throw()
    {
        using var scope = DisposeScope.Begin();
        var x = Tensor.Zeros([2, 3]);
        Assert.Contains("shape '[4, 2]' is invalid for input of size 6", Assert.Throws<TorchException>(() => x.View(4, 2)).Message);
        Assert.Contains("Dimension out of range", Assert.Throws<TorchException>(() => x.Softmax(5)).Message);
    }

    [Fact]
    public void Error_state_does_not_leak_into_the_next_call()
    {
        using var scope = DisposeScope.Begin();
        Assert.Throws<TorchException>(() => Tensor.Zeros([2]).View(3));
        var x = Tensor.Ones([2]);
        Assert.Null(x.Grad); // a null grad is "none", not the previous error
        Assert.Equal(2.0, x.Sum().ToDouble());
    }

    [Fact]
    public void Using_a_disposed_tensor_throws_ObjectDisposedException()
    {
        var x = Tensor.Ones([2]);
        x.Dispose();
        Assert.Throws<ObjectDisposedException>(() => x.Sum());
    }

    [Fact]
    public void FromBytes_with_wrong_byte_count_names_shape_and_dtype()
    {
        var e = Assert.Throws<TorchException>(() => Tensor.FromBytes(DType.Float32, [2, 3], new byte[20]));
        Assert.Contains("byte count 20 does not match shape [2, 3]", e.Message);
        Assert.Contains("needs 24 bytes", e.Message);
    }
}
