namespace FsrNative;

/// <summary>Checks and small helpers shared by the op files.</summary>
internal static class OpSupport
{
    public static void SameDevice(Tensor a, Tensor b, string op)
    {
        if (a.device != b.device)
            throw new ArgumentException($"{op}: expected tensors on the same device, got {a.device} and {b.device}");
    }

    /// <summary>Requires a floating-point tensor (Float32, or Float64 on the CPU backend for gradient checks).</summary>
    public static void Float(Tensor t, string op)
    {
        if (!t.DType.IsFloatingPoint())
            throw new ArgumentException($"{op}: expected a floating-point tensor, got {t.DType} with shape {Shape.Format(t.ShapeSpan)}");
    }

    public static void SameDType(Tensor a, Tensor b, string op)
    {
        if (a.DType != b.DType)
            throw new ArgumentException($"{op}: element types differ ({a.DType} and {b.DType}); convert one with to(DType)");
    }

    public static Tensor Empty(ReadOnlySpan<int> shape, Device device, DType dtype = DType.Float32)
        => Tensor.Empty(shape.ToArray(), device, dtype);

    /// <summary>A view of <paramref name="t"/> broadcast to <paramref name="shape"/> (stride 0 on broadcast dims).</summary>
    public static Tensor Broadcasted(Tensor t, int[] shape)
        => t.AsStridedRaw(shape, Shape.BroadcastStrides(t.ShapeSpan, t.StrideSpan, shape), t.Offset);

    /// <summary>Sums a gradient of a broadcast result back to an input's shape (leading dims, and dims that were 1).</summary>
    public static Tensor SumTo(Tensor g, ReadOnlySpan<int> shape)
    {
        if (Shape.SameShape(g.ShapeSpan, shape)) return g;
        int lead = g.dim() - shape.Length;
        var axes = new List<int>();
        for (int i = 0; i < g.dim(); i++)
        {
            if (i < lead) axes.Add(i);
            else if (shape[i - lead] == 1 && g.size(i) != 1) axes.Add(i);
        }
        var summed = axes.Count > 0 ? g.sum(axes.ToArray(), keepdim: true) : g;
        return summed.reshape(shape.ToArray());
    }

    /// <summary>Sorted, non-negative reduction axes. An empty list means every axis, as in PyTorch
    /// (<c>x.sum(dim=[])</c> is the full sum); a 0-D tensor has none, whatever it is given (0 and −1 are valid).</summary>
    public static int[] NormalizeAxes(ReadOnlySpan<int> axes, int rank, string op)
    {
        if (axes.Length == 0) return Enumerable.Range(0, rank).ToArray();
        var result = new int[axes.Length];
        for (int i = 0; i < axes.Length; i++) result[i] = Shape.Axis(axes[i], rank, op);
        if (rank == 0) return [];   // a 0-D tensor "reduced" over its dim 0 / −1 keeps its one value
        Array.Sort(result);
        for (int i = 1; i < result.Length; i++)
            if (result[i] == result[i - 1]) throw new ArgumentException($"{op}: dimension {result[i]} appears more than once");
        return result;
    }

    /// <summary>The (outer, n, inner) factorisation of a contiguous shape around axis <paramref name="axis"/>.</summary>
    public static (int outer, int n, int inner) Around(ReadOnlySpan<int> shape, int axis)
    {
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= shape[i];
        for (int i = axis + 1; i < shape.Length; i++) inner *= shape[i];
        return (outer, shape.Length == 0 ? 1 : shape[axis], inner);
    }
}
