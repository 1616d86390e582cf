namespace AlignCluster.Torch;

/// <summary>
/// Collects the tensors created on this thread while it is open and disposes them when it ends. Open one per
/// training step so intermediate tensors are released deterministically:
/// <code>
/// using (var step = DisposeScope.Begin())
/// {
///     var loss = model.Forward(batch).CrossEntropy(targets);   // every intermediate joins the scope
///     loss.Backward();
///     optimizer.Step();
///     lastLoss = loss.MoveToOuterScope();                     // survives the scope
/// }
/// </code>
/// Scopes nest; they must end in reverse order on the thread that began them (no <c>await</c> inside).
/// Parameters and optimizer state never join a scope.
/// </summary>
public sealed class DisposeScope : IDisposable
{
    [ThreadStatic] private static DisposeScope? current;

    private readonly DisposeScope? outer;
    private readonly List<Tensor> owned = new();
    private bool disposed;

    private DisposeScope(DisposeScope? outer) => this.outer = outer;

    /// <summary>The innermost open scope on this thread, or null.</summary>
    public static DisposeScope? Current => current;

    /// <summary>Opens a scope nested in the current one.</summary>
    public static DisposeScope Begin() => current = new DisposeScope(current);

    /// <summary>Number of tensors this scope will dispose.</summary>
    public int Count => owned.Count(t => t.Scope == this && !t.IsClosed);

    internal void Add(Tensor tensor)
    {
        owned.Add(tensor);
        tensor.Scope = this;
    }

    /// <summary>Moves <paramref name="tensor"/> (owned by this scope) to the enclosing scope, or to none.</summary>
    public T MoveOut<T>(T tensor) where T : Tensor
    {
        if (tensor.Scope != this) throw new InvalidOperationException("the tensor does not belong to this dispose scope");
        if (outer is not null) outer.Add(tensor);
        else tensor.Scope = null;
        return tensor;
    }

    /// <summary>Disposes every tensor still owned by this scope and makes the enclosing scope current.</summary>
    public void Dispose()
    {
        if (disposed) return;
        if (current != this)
            throw new InvalidOperationException("dispose scopes must end in reverse order of Begin, on the thread that began them");
        disposed = true;
        current = outer;
        foreach (var t in owned)
            if (t.Scope == this) { t.Scope = null; t.Dispose(); }
        owned.Clear();
    }
}
