namespace FsrNative;

/// <summary>
/// Frees the temporaries of a block of work: every tensor created on this thread while the scope is the innermost
/// one is disposed when the scope is, unless it was moved out (<see cref="Tensor.MoveToOuterDisposeScope"/>) or
/// detached (<see cref="Tensor.DetachFromDisposeScope"/>). The pattern of a training step:
/// <code>
/// using (var scope = torch.NewDisposeScope())
/// {
///     var loss = model.forward(x).mean();
///     loss.backward();             // parameter .grad tensors are owned by the parameters, not the scope
///     optimizer.step();
/// }                                // activations, saved tensors, gradients of intermediates: all freed here
/// </code>
/// Scopes nest and are per thread. GPU memory in particular must not wait for the garbage collector.
/// </summary>
public sealed class DisposeScope : IDisposable
{
    [ThreadStatic] static DisposeScope? _current;

    readonly DisposeScope? _outer;
    List<Tensor>? _tensors = new();

    DisposeScope(DisposeScope? outer) { _outer = outer; }

    /// <summary>Opens a scope on this thread; dispose it to free what it collected.</summary>
    public static DisposeScope Open() => _current = new DisposeScope(_current);

    public static DisposeScope? Current => _current;

    /// <summary>How many live tensors this scope would dispose now.</summary>
    public int Count => _tensors?.Count(t => !t.IsDisposed && ReferenceEquals(t.OwnerScope, this)) ?? 0;

    internal static void Register(Tensor t)
    {
        var scope = _current;
        if (scope?._tensors is null) return;
        t.OwnerScope = scope;
        scope._tensors.Add(t);
    }

    internal static void Unregister(Tensor t) => t.OwnerScope = null;

    internal static void MoveToOuter(Tensor t)
    {
        var owner = t.OwnerScope;
        if (owner is null) return;
        var outer = owner._outer;
        if (outer?._tensors is null) { t.OwnerScope = null; return; }
        t.OwnerScope = outer;
        outer._tensors.Add(t);
    }

    internal static void Detach(Tensor t) => t.OwnerScope = null;

    /// <summary>Disposes every tensor still owned by this scope and makes the outer scope current again.</summary>
    public void Dispose()
    {
        var tensors = _tensors;
        if (tensors is null) return;
        _tensors = null;
        if (ReferenceEquals(_current, this)) _current = _outer;
        // Disposing in reverse creation order releases outputs before the inputs they were computed from.
        for (int i = tensors.Count - 1; i >= 0; i--)
        {
            var t = tensors[i];
            if (ReferenceEquals(t.OwnerScope, this)) t.Dispose();
        }
    }
}
