using static FsrNative.OpSupport;

namespace FsrNative;

/// <summary>
/// Index-driven ops. Index tensors are Int32. index_select and gather read; their backwards scatter-add into
/// zeros (deterministically: no float atomics). Out-of-range indices fail with the op's name and the position.
/// </summary>
public static partial class TensorOps
{
    extension(Tensor x)
    {
        /// <summary>Entries <paramref name="index"/> (1-D Int32) along <paramref name="dim"/>.</summary>
        public Tensor index_select(int dim, Tensor index)
        {
            const string name = "index_select";
            Float(x, name);
            index.RequireDType(DType.Int32, name);
            SameDevice(x, index, name);
            if (index.dim() > 1) throw new ArgumentException($"index_select: index must be 1-D, got {Shape.Format(index.ShapeSpan)}");
            int d = Shape.Axis(dim, x.dim(), name);
            var xc = x.ContiguousOrSelf();
            var ic = index.ContiguousOrSelf();
            var (outer, n, inner) = Around(xc.ShapeSpan, d);
            var outShape = x.ShapeArray.ToArray();
            if (outShape.Length > 0) outShape[d] = index.NumEl;
            var y = Tensor.Empty(outShape, x.device, x.DType);
            x.Backend.IndexSelect(xc, ic, y, outer, n, inner);
            if (!ReferenceEquals(xc, x)) xc.Dispose();
            var inputShape = x.ShapeArray;
            return Tape.Record(y, name, x, g =>
            {
                var gx = torch.zeros(inputShape, g.device, dtype: g.DType);
                x.Backend.IndexAdd(gx, ic, g.ContiguousOrSelf(), outer, n, inner);
                return gx;
            });
        }

        /// <summary>
        /// out[…, j, …] = x[…, index[…, j, …], …] along <paramref name="dim"/>; index has x's rank and sizes no larger
        /// than x's in the other dimensions (PyTorch's rule); the output has index's shape.
        /// </summary>
        public Tensor gather(int dim, Tensor index)
        {
            const string name = "gather";
            Float(x, name);
            index.RequireDType(DType.Int32, name);
            SameDevice(x, index, name);
            int d = Shape.Axis(dim, x.dim(), name);
            using var src = MatchOtherDims(x, index, d, name);
            var sc = src.ContiguousOrSelf();
            var ic = index.ContiguousOrSelf();
            var (outer, n, inner) = Around(sc.ShapeSpan, d);
            int k = index.dim() == 0 ? 1 : index.size(d);
            var y = Tensor.Empty(index.ShapeArray, x.device, x.DType);
            x.Backend.Gather(sc, ic, y, outer, n, k, inner);
            if (!ReferenceEquals(sc, src)) sc.Dispose();
            var inputShape = x.ShapeArray;
            return Tape.Record(y, name, x, g => torch.zeros(inputShape, g.device, dtype: g.DType).scatter_add(d, ic, g));
        }

        /// <summary>
        /// A copy of x with src added at the positions index names along <paramref name="dim"/>:
        /// out[…, index[…, j, …], …] += src[…, j, …]. Deterministic. Gradient: x gets g, src gets g gathered.
        /// </summary>
        public Tensor scatter_add(int dim, Tensor index, Tensor src)
        {
            const string name = "scatter_add";
            Float(x, name);
            Float(src, name);
            SameDType(x, src, name);
            index.RequireDType(DType.Int32, name);
            SameDevice(x, index, name);
            SameDevice(x, src, name);
            int d = Shape.Axis(dim, x.dim(), name);
            if (index.dim() != x.dim() || src.dim() != x.dim())
                throw new ArgumentException($"scatter_add: index {Shape.Format(index.ShapeSpan)} and src {Shape.Format(src.ShapeSpan)} must have the rank of self {Shape.Format(x.ShapeSpan)}");
            for (int i = 0; i < x.dim(); i++)
                if (index.size(i) > src.size(i) || (i != d && index.size(i) > x.size(i)))
                    throw new ArgumentException($"scatter_add: index {Shape.Format(index.ShapeSpan)} is larger than src {Shape.Format(src.ShapeSpan)} or self {Shape.Format(x.ShapeSpan)} in dimension {i}");
            var y = x.ContiguousOrSelf() is var xc && ReferenceEquals(xc, x) ? CopyOf(x) : xc;
            // Work on the region of y that index covers in the non-scatter dimensions.
            using var region = MatchOtherDims(y, index, d, name);
            using var srcRegion = src.AsStridedRaw(index.ShapeArray, src.StrideArray, src.Offset);
            var ic = index.ContiguousOrSelf();
            var sc = srcRegion.ContiguousOrSelf();
            if (region.is_contiguous())
            {
                var (outer, n, inner) = Around(region.ShapeSpan, d);
                x.Backend.ScatterAdd(region, ic, sc, outer, n, index.size(d), inner);
            }
            else
            {
                using var tmp = region.ContiguousOrSelf();
                var (outer, n, inner) = Around(tmp.ShapeSpan, d);
                x.Backend.ScatterAdd(tmp, ic, sc, outer, n, index.size(d), inner);
                x.Backend.Copy(tmp, region);
            }
            if (!ReferenceEquals(sc, srcRegion)) sc.Dispose();
            var srcShape = src.ShapeArray;
            return Tape.Record(y, name, [x, src], g =>
            {
                Tensor? gs = null;
                if (src.requires_grad)
                {
                    var picked = g.gather(d, ic);
                    gs = Shape.SameShape(picked.ShapeSpan, srcShape) ? picked : PadTo(picked, srcShape);
                }
                return [x.requires_grad ? g : null, gs];
            });
        }
    }

    static Tensor CopyOf(Tensor x)
    {
        var c = Tensor.Empty(x.ShapeArray, x.device, x.DType);
        x.Backend.Copy(x, c);
        return c;
    }

    /// <summary>A view of <paramref name="x"/> narrowed to index's sizes in every dimension except <paramref name="d"/>.</summary>
    static Tensor MatchOtherDims(Tensor x, Tensor index, int d, string name)
    {
        if (index.dim() != x.dim())
            throw new ArgumentException($"{name}: index {Shape.Format(index.ShapeSpan)} must have the rank of the input {Shape.Format(x.ShapeSpan)}");
        var shape = x.ShapeArray.ToArray();
        for (int i = 0; i < shape.Length; i++)
        {
            if (i == d) continue;
            if (index.size(i) > x.size(i))
                throw new ArgumentException($"{name}: index {Shape.Format(index.ShapeSpan)} is larger than the input {Shape.Format(x.ShapeSpan)} in dimension {i}");
            shape[i] = index.size(i);
        }
        return x.AsStridedRaw(shape, x.StrideArray, x.Offset);
    }

    /// <summary>Zeros of <paramref name="shape"/> with <paramref name="t"/> in the leading corner.</summary>
    static Tensor PadTo(Tensor t, int[] shape)
    {
        var full = torch.zeros(shape, t.device, dtype: t.DType);
        using var corner = full.AsStridedRaw(t.ShapeArray, full.StrideArray, 0);
        t.Backend.Copy(t, corner);
        return full;
    }
}

public static partial class torch
{
    public static partial class nn
    {
        public static partial class functional
        {
            /// <summary>One-hot encoding of an Int32 tensor: a Float32 tensor with a trailing dimension of
            /// <paramref name="numClasses"/> (−1: max + 1). Float because it is multiplied into losses.</summary>
            public static Tensor one_hot(Tensor index, int numClasses = -1)
            {
                index.RequireDType(DType.Int32, "one_hot");
                var ic = index.ContiguousOrSelf();
                if (numClasses < 0) numClasses = index.NumEl == 0 ? 0 : ic.ToIntArray().Max() + 1;
                var y = Tensor.Empty(index.ShapeArray.Append(numClasses).ToArray(), index.device);
                index.Backend.OneHot(ic, y, numClasses);
                return y;
            }
        }
    }
}
