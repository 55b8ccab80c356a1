using FsrNative.Kernels;
using static FsrNative.OpSupport;

namespace FsrNative;

/// <summary>
/// Reductions over any set of axes. The input is made contiguous, the reduced axes are grouped into runs of
/// adjacent axes, and each run is one (outer, r, inner) kernel call, last run first — no permuting copies for the
/// common cases (last axis, leading axes, a middle block).
/// </summary>
public static partial class TensorOps
{
    extension(Tensor x)
    {
        /// <summary>Sum over all elements (a 0-D tensor).</summary>
        public Tensor sum() => x.sum(AllAxes(x), keepdim: false);
        public Tensor sum(int dim, bool keepdim = false) => x.sum([dim], keepdim);
        public Tensor sum(int[] dims, bool keepdim = false)
        {
            const string name = "sum";
            Float(x, name);
            var axes = NormalizeAxes(dims, x.dim(), name);
            var y = ReduceRuns(x, axes, ReduceOp.Sum, keepdim);
            var inputShape = x.ShapeArray;
            return Tape.Record(y, name, x, g => ExpandBack(g, inputShape, axes, keepdim));
        }

        public Tensor mean() => x.mean(AllAxes(x), keepdim: false);
        public Tensor mean(int dim, bool keepdim = false) => x.mean([dim], keepdim);
        public Tensor mean(int[] dims, bool keepdim = false)
        {
            const string name = "mean";
            Float(x, name);
            var axes = NormalizeAxes(dims, x.dim(), name);
            int count = Count(x, axes);
            var summed = ReduceRuns(x, axes, ReduceOp.Sum, keepdim);
            var y = Empty(summed.ShapeSpan, x.device, x.DType);
            x.Backend.Unary(UnaryOp.DivScalar, summed, y, count, 0);
            summed.Dispose();
            var inputShape = x.ShapeArray;
            return Tape.Record(y, name, x, g => ExpandBack(g.div(count), inputShape, axes, keepdim));
        }

        /// <summary>Maximum over the given axes; ties share the gradient evenly (PyTorch's amax rule).</summary>
        public Tensor amax(int[] dims, bool keepdim = false) => Extreme(x, dims, keepdim, ReduceOp.Max, "amax");
        public Tensor amin(int[] dims, bool keepdim = false) => Extreme(x, dims, keepdim, ReduceOp.Min, "amin");
        /// <summary>Maximum of all elements (0-D); ties share the gradient evenly.</summary>
        public Tensor max() => Extreme(x, AllAxes(x), false, ReduceOp.Max, "max");
        public Tensor min() => Extreme(x, AllAxes(x), false, ReduceOp.Min, "min");

        /// <summary>Maximum along <paramref name="dim"/> and the index of its first occurrence; the gradient goes to that index.</summary>
        public (Tensor values, Tensor indices) max(int dim, bool keepdim = false) => ArgExtreme(x, dim, keepdim, max: true);
        public (Tensor values, Tensor indices) min(int dim, bool keepdim = false) => ArgExtreme(x, dim, keepdim, max: false);

        public Tensor argmax(int dim, bool keepdim = false)
        {
            var (values, indices) = ArgExtremeRaw(x, dim, keepdim, max: true);
            values.Dispose();
            return indices;
        }

        public Tensor argmin(int dim, bool keepdim = false)
        {
            var (values, indices) = ArgExtremeRaw(x, dim, keepdim, max: false);
            values.Dispose();
            return indices;
        }

        /// <summary>Index of the maximum of the flattened tensor.</summary>
        public Tensor argmax() => x.reshape(-1).argmax(0);

        /// <summary>Variance with <paramref name="correction"/> (1 = unbiased, PyTorch's default).</summary>
        public Tensor var(int[] dims, int correction = 1, bool keepdim = false)
        {
            var (variance, _) = Variance(x, dims, correction, keepdim, "var");
            return variance;
        }

        public Tensor var(int dim, int correction = 1, bool keepdim = false) => x.var([dim], correction, keepdim);
        public Tensor var() => x.var(AllAxes(x));

        /// <summary>Standard deviation; where it is 0 (all values equal) the gradient is 0, as in PyTorch, not NaN.</summary>
        public Tensor std(int[] dims, int correction = 1, bool keepdim = false)
        {
            var (variance, _) = Variance(x, dims, correction, keepdim, "std");
            var y = Empty(variance.ShapeSpan, x.device, x.DType);
            x.Backend.Unary(UnaryOp.Sqrt, variance, y, 0, 0);
            return Tape.Record(y, "std", variance, g =>
            {
                // d std / d var = 1 / (2 std); 0 where std = 0 (sqrt's 0.5/0 = ∞ would meet a 0 and make NaN).
                using var zero = torch.zeros_like(g);
                return torch.where(y.eq(0f), zero, g.mul(y.rdiv(0.5f)));
            });
        }

        public Tensor std(int dim, int correction = 1, bool keepdim = false) => x.std([dim], correction, keepdim);
        public Tensor std() => x.std(AllAxes(x));
    }

    static int[] AllAxes(Tensor x) => Enumerable.Range(0, x.dim()).ToArray();

    static int Count(Tensor x, int[] axes)
    {
        int n = 1;
        foreach (int a in axes) n *= x.size(a);
        return n;
    }

    static int[] ReducedShape(ReadOnlySpan<int> shape, int[] axes, bool keepdim)
    {
        var result = new List<int>();
        for (int i = 0; i < shape.Length; i++)
        {
            if (Array.IndexOf(axes, i) < 0) result.Add(shape[i]);
            else if (keepdim) result.Add(1);
        }
        return result.ToArray();
    }

    /// <summary>Runs an associative reduction (sum, max, min) over sorted axes, one run of adjacent axes at a time.</summary>
    internal static Tensor ReduceRuns(Tensor x, int[] axes, ReduceOp op, bool keepdim)
    {
        var outShape = ReducedShape(x.ShapeSpan, axes, keepdim);
        if (axes.Length == 0)
        {
            // Nothing to reduce (a 0-D input): a copy.
            var copy = Tensor.Empty(x.ShapeArray, x.device, x.DType);
            x.Backend.Copy(x, copy);
            return copy;
        }
        if (x.NumEl == 0 && op != ReduceOp.Sum)
            throw new ArgumentException($"{op}: cannot reduce an empty tensor {x.Describe()} over axes [{string.Join(", ", axes)}]");
        var current = x.ContiguousOrSelf();
        var shape = current.ShapeArray.ToList();
        bool owned = !ReferenceEquals(current, x);
        // Walk runs from the last axis backwards so earlier axis numbers stay valid.
        int k = axes.Length - 1;
        while (k >= 0)
        {
            int end = axes[k], start = end;
            while (k > 0 && axes[k - 1] == start - 1) { k--; start--; }
            k--;
            int outer = 1, r = 1, inner = 1;
            for (int i = 0; i < start; i++) outer *= shape[i];
            for (int i = start; i <= end; i++) r *= shape[i];
            for (int i = end + 1; i < shape.Count; i++) inner *= shape[i];
            shape.RemoveRange(start, end - start + 1);
            var next = Tensor.Empty(shape.ToArray(), x.device, x.DType);
            x.Backend.Reduce(op, current, outer, r, inner, next);
            if (owned) current.Dispose();
            current = next;
            owned = true;
        }
        if (!Shape.SameShape(current.ShapeSpan, outShape))
        {
            var reshaped = current.AsStridedRaw(outShape, Shape.ContiguousStrides(outShape), current.Offset);
            current.Dispose();
            current = reshaped;
        }
        return current;
    }

    /// <summary>Expands a reduced gradient back over the reduced axes (a broadcast view, no copy).</summary>
    static Tensor ExpandBack(Tensor g, int[] inputShape, int[] axes, bool keepdim)
    {
        var kept = g;
        if (!keepdim)
        {
            var withOnes = inputShape.Select((s, i) => Array.IndexOf(axes, i) >= 0 ? 1 : s).ToArray();
            kept = g.reshape(withOnes);
        }
        return kept.expand(inputShape);
    }

    static Tensor Extreme(Tensor x, int[] dims, bool keepdim, ReduceOp op, string name)
    {
        Float(x, name);
        var axes = NormalizeAxes(dims, x.dim(), name);
        var y = ReduceRuns(x, axes, op, keepdim);
        var inputShape = x.ShapeArray;
        return Tape.Record(y, name, x, g =>
        {
            // Gradient split evenly among the elements equal to the extreme.
            var yk = ExpandBack(y, inputShape, axes, keepdim);
            var hits = x.eq(yk);
            var count = hits.sum(axes, keepdim: true);
            var share = ExpandBack(g, inputShape, axes, keepdim).div(count.expand(inputShape));
            return share.mul(hits);
        });
    }

    static (Tensor values, Tensor indices) ArgExtremeRaw(Tensor x, int dim, bool keepdim, bool max)
    {
        string name = max ? "max" : "min";
        Float(x, name);
        int d = Shape.Axis(dim, x.dim(), name);
        var xc = x.ContiguousOrSelf();
        var (outer, r, inner) = Around(xc.ShapeSpan, d);
        var outShape = ReducedShape(x.ShapeSpan, [d], keepdim);
        var values = Tensor.Empty(outShape, x.device, x.DType);
        var indices = Tensor.Empty(outShape, x.device, DType.Int32);
        x.Backend.ArgReduce(max, xc, outer, r, inner, values, indices);
        if (!ReferenceEquals(xc, x)) xc.Dispose();
        return (values, indices);
    }

    static (Tensor values, Tensor indices) ArgExtreme(Tensor x, int dim, bool keepdim, bool max)
    {
        var (values, indices) = ArgExtremeRaw(x, dim, keepdim, max);
        int d = Shape.Axis(dim, x.dim(), max ? "max" : "min");
        var inputShape = x.ShapeArray;
        Tape.Record(values, max ? "max" : "min", x, g =>
        {
            if (inputShape.Length == 0) return g;   // a 0-D input is its own extreme
            var gk = keepdim ? g : g.unsqueeze(d);
            var ik = keepdim ? indices : indices.unsqueeze(d);
            return torch.zeros(inputShape, g.device, dtype: g.DType).scatter_add(d, ik, gk);
        });
        return (values, indices);
    }

    /// <summary>Variance over any axes: reduced axes are permuted to the end and made contiguous, then one kernel
    /// computes mean and variance per row (two passes, numerically stable).</summary>
    static (Tensor variance, Tensor mean) Variance(Tensor x, int[] dims, int correction, bool keepdim, string name)
    {
        Float(x, name);
        var axes = NormalizeAxes(dims, x.dim(), name);
        var kept = Enumerable.Range(0, x.dim()).Where(i => Array.IndexOf(axes, i) < 0).ToArray();
        Tensor rows;
        using (torch.no_grad())
        {
            using var permuted = x.AsStridedRaw(kept.Concat(axes).Select(i => x.size(i)).ToArray(),
                kept.Concat(axes).Select(i => x.stride(i)).ToArray(), x.Offset);
            rows = permuted.ContiguousOrSelf();
            if (ReferenceEquals(rows, permuted)) rows = permuted.AsStridedRaw(permuted.ShapeArray, permuted.StrideArray, permuted.Offset);
        }
        int r = Count(x, axes);
        int outer = x.NumEl / Math.Max(r, 1);
        var outShape = ReducedShape(x.ShapeSpan, axes, keepdim);
        var variance = Tensor.Empty(outShape, x.device, x.DType);
        var mean = Tensor.Empty(outShape, x.device, x.DType);
        x.Backend.Variance(rows, outer, r, 1, correction, variance, mean);
        rows.Dispose();
        var inputShape = x.ShapeArray;
        Tape.Record(variance, name, x, g =>
        {
            // d var / dx = 2 (x − mean) / (N − correction)
            var centered = x.sub(ExpandBack(mean, inputShape, axes, keepdim));
            return centered.mul(ExpandBack(g, inputShape, axes, keepdim)).mul(2f / Math.Max(r - correction, 0));
        });
        return (variance, mean);
    }
}
