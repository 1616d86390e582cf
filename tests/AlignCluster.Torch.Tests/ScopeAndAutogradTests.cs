namespace AlignCluster.Torch.Tests;

/// <summary>Dispose scopes, no-grad scopes and autograd bookkeeping.</summary>
public class ScopeAndAutogradTests
{
    [Fact]
    public void Scope_disposes_what_was_created_inside_except_moved_out()
    {
        Tensor inside, kept, detached;
        using (var scope = DisposeScope.Begin())
        {
            inside = Tensor.Ones([2]);
            kept = (inside * 2).MoveToOuterScope();
            detached = Tensor.Zeros([1]).DetachFromScope();
            Assert.Equal(1, scope.Count);
        }
        Assert.True(inside.IsClosed);
        Assert.False(kept.IsClosed);
        Assert.Equal([2f, 2f], kept.ToArray<float>());
        kept.Dispose();
        Assert.False(detached.IsClosed);
        detached.Dispose();
    }

    [Fact]
    public void Nested_scope_moves_to_the_enclosing_scope()
    {
        Tensor moved;
        using (var outer = DisposeScope.Begin())
        {
            using (var inner = DisposeScope.Begin())
                moved = inner.MoveOut(Tensor.Ones([1]));
            Assert.False(moved.IsClosed);
            Assert.Same(outer, DisposeScope.Current);
        }
        Assert.True(moved.IsClosed);
        Assert.Null(DisposeScope.Current);
    }

    [Fact]
    public void Scopes_must_end_in_order()
    {
        var outer = DisposeScope.Begin();
        var inner = DisposeScope.Begin();
        Assert.Throws<InvalidOperationException>(() => outer.Dispose());
        inner.Dispose();
        outer.Dispose();
    }

    [Fact]
    public void NoGrad_stops_recording_and_restores()
    {
        using var scope = DisposeScope.Begin();
        var x = Tensor.Ones([2]).RequiresGrad_();
        using (Autograd.NoGrad())
        {
            Assert.False(Autograd.IsGradEnabled);
            Assert.False((x * 2).RequiresGrad);
            using (Autograd.EnableGrad()) Assert.True((x * 2).RequiresGrad);
        }
        Assert.True(Autograd.IsGradEnabled);
        Assert.True((x * 2).RequiresGrad);
    }

    [Fact]
    public void Backward_accumulates_and_detach_cuts_the_graph()
    {
        using var scope = DisposeScope.Begin();
        var x = Tensor.From<double>([1, 2, 3]).RequiresGrad_();
        Assert.True(x.IsLeaf);
        Assert.Null(x.Grad);
        (x * x).Sum().Backward(); // d/dx Σx² = 2x
        Assert.Equal([2.0, 4, 6], x.Grad!.ToArray<double>());
        (x * 3).Sum().Backward(); // accumulates: 2x + 3
        Assert.Equal([5.0, 7, 9], x.Grad!.ToArray<double>());
        x.Grad = null;
        var y = x * x;
        y.Backward(Tensor.From<double>([1, 0, 2])); // vector-Jacobian product: v ⊙ 2x
        Assert.Equal([2.0, 0, 12], x.Grad!.ToArray<double>());
        Assert.False(x.Detach().RequiresGrad);
        Assert.Contains("does not require grad", Assert.Throws<TorchException>(() => x.Detach().Sum().Backward()).Message);
    }

    [Fact]
    public void Retained_graph_allows_a_second_backward()
    {
        using var scope = DisposeScope.Begin();
        var x = Tensor.From<double>([2]).RequiresGrad_();
        var y = (x * x * x).Sum(); // dy/dx = 3x² = 12
        y.Backward(retainGraph: true);
        y.Backward();
        Assert.Equal(24.0, x.Grad!.ToDouble());
    }
}
