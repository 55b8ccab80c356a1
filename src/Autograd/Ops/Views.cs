using static FsrNative.OpSupport;

namespace FsrNative;

/// <summary>
/// Ops that change how storage is read without copying (reshape, permute, narrow, expand, …) and the few that
/// copy (contiguous, clone, to). Each view's backward maps the gradient back through the inverse view.
/// </summary>
public static partial class TensorOps
{
    extension(Tensor x)
    {
        /// <summary>A contiguous tensor with the same values: x itself if it already is, else a copy.</summary>
        public Tensor contiguous()
        {
            if (x.is_contiguous()) return x;
            return x.clone();
        }

        /// <summary>Like <c>contiguous()</c> but never recorded and returned as is when already contiguous (for kernels that
        /// need contiguous inputs inside forward/backward code).</summary>
        internal Tensor ContiguousOrSelf()
        {
            if (x.is_contiguous()) return x;
            var c = Tensor.Empty(x.ShapeArray, x.device, x.DType);
            x.Backend.Copy(x, c);
            return c;
        }

        /// <summary>A copy in fresh contiguous memory; gradient passes through.</summary>
        public Tensor clone()
        {
            var c = Tensor.Empty(x.ShapeArray, x.device, x.DType);
            x.Backend.Copy(x, c);
            if (!x.DType.IsFloatingPoint()) return c;
            return Tape.Record(c, "clone", x, g => g);
        }

        /// <summary>A new handle on the same memory that is cut off from the tape.</summary>
        public Tensor detach() => x.AsStridedRaw(x.ShapeArray, x.StrideArray, x.Offset);

        /// <summary>Moves (copies) to another device; a no-op handle when already there. Differentiable.</summary>
        public Tensor to(Device device)
        {
            if (x.device == device) return x;
            if (x.DType == DType.Float64) throw new NotSupportedException($"to({device}): Float64 tensors stay on the cpu backend");
            var host = new float[x.NumEl];
            x.Backend.Download(x, host);   // sync point: device → host
            var y = Tensor.Empty(x.ShapeArray, device, x.DType);
            device.Backend.Upload(host, y);
            if (x.DType != DType.Float32) return y;
            var from = x.device;
            return Tape.Record(y, "to", x, g => g.to(from));
        }

        public Tensor cpu() => x.to(Device.CPU);

        /// <summary>Converts the element type (to Int32 truncating toward zero). Float ↔ float conversions are
        /// differentiable (the gradient is converted back), as in PyTorch; conversions to or from Int32 are not.</summary>
        public Tensor to(DType dtype)
        {
            if (x.DType == dtype) return x;
            var y = Tensor.Empty(x.ShapeArray, x.device, dtype);
            x.Backend.Cast(x, y);
            if (!x.DType.IsFloatingPoint() || !dtype.IsFloatingPoint()) return y;
            var from = x.DType;
            return Tape.Record(y, "to", x, g => g.to(from));
        }

        /// <summary>A view with <paramref name="shape"/> (one entry may be −1); throws if the strides don't allow one.</summary>
        public Tensor view(params int[] shape)
        {
            var target = Shape.Infer(shape, x.NumEl, "view");
            var strides = Shape.ViewStrides(x.ShapeSpan, x.StrideSpan, target)
                ?? throw new InvalidOperationException($"view: size {Shape.Format(target)} is not compatible with the input's strides {Shape.Format(x.StrideSpan)}; use reshape()");
            return ViewOf(x, target, strides, x.Offset, "view");
        }

        /// <summary>A view when the strides allow one, else a contiguous copy reshaped.</summary>
        public Tensor reshape(params int[] shape)
        {
            var target = Shape.Infer(shape, x.NumEl, "reshape");
            var strides = Shape.ViewStrides(x.ShapeSpan, x.StrideSpan, target);
            if (strides is not null) return ViewOf(x, target, strides, x.Offset, "reshape");
            return x.clone().view(target);
        }

        public Tensor flatten(int startDim = 0, int endDim = -1)
        {
            int rank = x.dim();
            if (rank == 0) return x.reshape(1);
            int s = Shape.Axis(startDim, rank, "flatten"), e = Shape.Axis(endDim, rank, "flatten");
            if (s > e) throw new ArgumentException($"flatten: start dimension {startDim} comes after end dimension {endDim}");
            var shape = new List<int>();
            for (int i = 0; i < s; i++) shape.Add(x.size(i));
            int merged = 1;
            for (int i = s; i <= e; i++) merged *= x.size(i);
            shape.Add(merged);
            for (int i = e + 1; i < rank; i++) shape.Add(x.size(i));
            return x.reshape(shape.ToArray());
        }

        public Tensor permute(params int[] dims)
        {
            int rank = x.dim();
            if (dims.Length != rank) throw new ArgumentException($"permute: {dims.Length} dimensions given for a tensor of rank {rank}");
            var seen = new bool[rank];
            var shape = new int[rank];
            var strides = new int[rank];
            var inverse = new int[rank];
            for (int i = 0; i < rank; i++)
            {
                int d = Shape.Axis(dims[i], rank, "permute");
                if (seen[d]) throw new ArgumentException($"permute: dimension {d} repeated in [{string.Join(", ", dims)}]");
                seen[d] = true;
                shape[i] = x.size(d);
                strides[i] = x.stride(d);
                inverse[d] = i;
            }
            var y = x.AsStridedRaw(shape, strides, x.Offset);
            return Tape.Record(y, "permute", x, g => g.permute(inverse));
        }

        public Tensor transpose(int dim0, int dim1)
        {
            int rank = x.dim();
            var dims = Enumerable.Range(0, rank).ToArray();
            int a = Shape.Axis(dim0, rank, "transpose"), b = Shape.Axis(dim1, rank, "transpose");
            (dims[a], dims[b]) = (dims[b], dims[a]);
            return x.permute(dims);
        }

        /// <summary>Transpose of a 2-D tensor (1-D and 0-D are returned unchanged).</summary>
        public Tensor t()
        {
            if (x.dim() > 2) throw new ArgumentException($"t(): expects a tensor of at most 2 dimensions, got {x.dim()}; use transpose()");
            return x.dim() < 2 ? x : x.transpose(0, 1);
        }

        /// <summary>Elements [start, start+length) along <paramref name="dim"/>, as a view.</summary>
        public Tensor narrow(int dim, int start, int length)
        {
            int d = Shape.Axis(dim, x.dim(), "narrow");
            int size = x.size(d);
            if (start < 0) start += size;
            if (start < 0 || length < 0 || start + length > size)
                throw new ArgumentOutOfRangeException(nameof(start), $"narrow: start {start} and length {length} exceed dimension {d} of size {size}");
            var shape = x.ShapeArray.ToArray();
            shape[d] = length;
            var y = x.AsStridedRaw(shape, x.StrideArray.ToArray(), x.Offset + start * x.stride(d));
            var inputShape = x.ShapeArray;
            return Tape.Record(y, "narrow", x, g =>
            {
                var full = torch.zeros(inputShape, g.device, dtype: g.DType);
                using var window = full.AsStridedRaw(shape, full.StrideArray.ToArray(), start * full.stride(d));
                g.Backend.Copy(g, window);
                return full;
            });
        }

        /// <summary>Index <paramref name="index"/> of dimension <paramref name="dim"/>, which disappears (a view).</summary>
        public Tensor select(int dim, int index)
        {
            int d = Shape.Axis(dim, x.dim(), "select");
            int size = x.size(d);
            int i = index < 0 ? index + size : index;
            if (i < 0 || i >= size) throw new IndexOutOfRangeException($"select: index {index} is out of range for dimension {d} of size {size}");
            return x.narrow(d, i, 1).squeeze(d);
        }

        /// <summary>Broadcasts to <paramref name="shape"/> (−1 keeps a size) without copying; gradient is summed back.</summary>
        public Tensor expand(params int[] shape)
        {
            var target = shape.ToArray();
            int lead = target.Length - x.dim();
            if (lead < 0) throw new ArgumentException($"expand: shape {Shape.Format(target)} has fewer dimensions than {Shape.Format(x.ShapeSpan)}");
            for (int i = 0; i < target.Length; i++)
                if (target[i] == -1)
                {
                    if (i < lead) throw new ArgumentException($"expand: −1 is not allowed for a new leading dimension ({Shape.Format(shape)})");
                    target[i] = x.size(i - lead);
                }
            var strides = Shape.BroadcastStrides(x.ShapeSpan, x.StrideSpan, target);
            var y = x.AsStridedRaw(target, strides, x.Offset);
            var inputShape = x.ShapeArray;
            return Tape.Record(y, "expand", x, g => SumTo(g, inputShape));
        }

        public Tensor broadcast_to(params int[] shape) => x.expand(shape);
        public Tensor expand_as(Tensor other) => x.expand(other.ShapeArray);

        /// <summary>Removes dimension <paramref name="dim"/> if its size is 1 (else returns x unchanged, like PyTorch).</summary>
        public Tensor squeeze(int dim)
        {
            int d = Shape.Axis(dim, x.dim(), "squeeze");
            if (x.size(d) != 1) return x;
            var shape = x.ShapeArray.Where((_, i) => i != d).ToArray();
            var strides = x.StrideArray.Where((_, i) => i != d).ToArray();
            return ViewOf(x, shape, strides, x.Offset, "squeeze");
        }

        /// <summary>Removes every size-1 dimension.</summary>
        public Tensor squeeze()
        {
            var keep = Enumerable.Range(0, x.dim()).Where(i => x.size(i) != 1).ToArray();
            return ViewOf(x, keep.Select(i => x.size(i)).ToArray(), keep.Select(i => x.stride(i)).ToArray(), x.Offset, "squeeze");
        }

        /// <summary>Inserts a size-1 dimension at <paramref name="dim"/> (−1 appends).</summary>
        public Tensor unsqueeze(int dim)
        {
            int rank = x.dim();
            int d = dim < 0 ? dim + rank + 1 : dim;
            if (d < 0 || d > rank) throw new ArgumentOutOfRangeException(nameof(dim), $"unsqueeze: dimension {dim} is out of range for a tensor of rank {rank}");
            var shape = x.ShapeArray.ToList();
            var strides = x.StrideArray.ToList();
            shape.Insert(d, 1);
            strides.Insert(d, d < rank ? x.stride(d) * x.size(d) : 1);
            return ViewOf(x, shape.ToArray(), strides.ToArray(), x.Offset, "unsqueeze");
        }
    }

    /// <summary>A view whose gradient is the output gradient reshaped to the input's shape.</summary>
    static Tensor ViewOf(Tensor x, int[] shape, int[] strides, int offset, string name)
    {
        var y = x.AsStridedRaw(shape, strides, offset);
        var inputShape = x.ShapeArray;
        return Tape.Record(y, name, x, g => g.reshape(inputShape));
    }
}
