namespace FsrNative;

/// <summary>
/// Reverse-mode differentiation over the tape: a topological sort from the root, then one walk in reverse order
/// that calls each grad_fn's closure and sums the gradients reaching each tensor. Leaves that require a gradient
/// accumulate it into <see cref="Tensor.grad"/>. Gradients of intermediates are freed as soon as their node has
/// run, and (unless <c>retainGraph</c>) each node's saved tensors are released after it ran.
/// </summary>
public static class Engine
{
    public static void Backward(Tensor root, Tensor? gradient = null, bool retainGraph = false)
    {
        if (!root.requires_grad)
            throw new InvalidOperationException($"backward(): {root.Describe()} does not require grad and has no grad_fn");
        if (gradient is null && root.NumEl != 1)
            throw new InvalidOperationException($"backward(): grad can be implicitly created only for one-element outputs; {root.Describe()} has {root.NumEl}: pass a gradient");
        if (gradient is not null && !Shape.SameShape(gradient.ShapeSpan, root.ShapeSpan))
            throw new ArgumentException($"backward(): gradient shape {Shape.Format(gradient.ShapeSpan)} does not match output shape {Shape.Format(root.ShapeSpan)}");
        if (gradient is not null && gradient.DType != root.DType)
            throw new ArgumentException($"backward(): gradient is {gradient.DType}, the output {root.Describe()} is {root.DType}; convert it with to(DType)");

        var order = TopologicalOrder(root);
        var grads = new Dictionary<Tensor, Tensor>(ReferenceEqualityComparer.Instance);
        using var noGrad = GradMode.Set(false);
        grads[root] = gradient is null
            ? torch.ones_like(root).DetachFromDisposeScope()
            : gradient.AliasRaw().DetachFromDisposeScope();

        try
        {
            for (int i = order.Count - 1; i >= 0; i--)
            {
                var t = order[i];
                if (!grads.Remove(t, out var g)) continue;   // no gradient flowed here
                var fn = t.grad_fn;
                if (fn is null)
                {
                    AccumulateLeaf(t, g);
                    continue;
                }
                try
                {
                    if (t.RetainsGrad) AccumulateLeaf(t, g.AliasRaw().DetachFromDisposeScope());
                    RunNode(t, fn, g, grads);
                }
                finally
                {
                    g.Dispose();
                }
                if (!retainGraph) fn.Release();
            }
        }
        finally
        {
            foreach (var leftover in grads.Values) leftover.Dispose();
        }
    }

    static void RunNode(Tensor t, GradFn fn, Tensor g, Dictionary<Tensor, Tensor> grads)
    {
        var backward = fn.Backward ?? throw new InvalidOperationException(
            $"backward(): trying to backward through the graph a second time ({fn.Name} of {t.Describe()}); " +
            "its saved tensors were freed. Pass retainGraph: true to the first backward if you need this.");
        fn.CheckVersions();
        using var scope = DisposeScope.Open();
        var inputGrads = backward(g);
        if (inputGrads.Length != fn.Inputs.Length)
            throw new InvalidOperationException($"{fn.Name} backward returned {inputGrads.Length} gradients for {fn.Inputs.Length} inputs");
        for (int k = 0; k < inputGrads.Length; k++)
        {
            var input = fn.Inputs[k];
            var gi = inputGrads[k];
            if (gi is null || !input.requires_grad) continue;
            if (!Shape.SameShape(gi.ShapeSpan, input.ShapeSpan))
                throw new InvalidOperationException($"{fn.Name} backward returned a gradient of shape {Shape.Format(gi.ShapeSpan)} for input {k} of shape {Shape.Format(input.ShapeSpan)}");
            if (grads.TryGetValue(input, out var existing))
            {
                grads[input] = existing.add(gi).DetachFromDisposeScope();
                existing.Dispose();
            }
            else grads[input] = gi.AliasRaw().DetachFromDisposeScope();
        }
    }

    /// <summary>Adds <paramref name="g"/> (owned by the engine) into a leaf's .grad. The first gradient is kept
    /// when nothing else shares its memory and it is contiguous; otherwise copied, so that later in-place
    /// accumulation never writes into another tensor.</summary>
    static void AccumulateLeaf(Tensor leaf, Tensor g)
    {
        if (!leaf.requires_grad) { g.Dispose(); return; }
        if (leaf.grad is null)
        {
            if (g.Storage.RefCount == 1 && g.is_contiguous() && g.Offset == 0) leaf.grad = g;
            else
            {
                leaf.grad = g.clone().DetachFromDisposeScope();
                g.Dispose();
            }
            return;
        }
        leaf.grad.add_(g);
        g.Dispose();
    }

    /// <summary>Depth-first post-order over grad_fn inputs, iterative so deep graphs cannot overflow the stack.</summary>
    static List<Tensor> TopologicalOrder(Tensor root)
    {
        var order = new List<Tensor>();
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor t, int next)>();
        stack.Push((root, 0));
        visited.Add(root);
        while (stack.Count > 0)
        {
            var (t, next) = stack.Pop();
            var inputs = t.grad_fn?.Inputs ?? [];
            if (next < inputs.Length)
            {
                stack.Push((t, next + 1));
                var child = inputs[next];
                if (child.requires_grad && visited.Add(child)) stack.Push((child, 0));
            }
            else order.Add(t);
        }
        return order;
    }
}
