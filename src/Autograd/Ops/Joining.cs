using static FsrNative.OpSupport;

namespace FsrNative;

/// <summary>cat / stack (copies into slices of one output) and split / chunk (narrow views).</summary>
public static partial class torch
{
    /// <summary>Concatenates along <paramref name="dim"/>; all other dimensions must match.</summary>
    public static Tensor cat(IReadOnlyList<Tensor> tensors, int dim = 0)
    {
        const string name = "cat";
        if (tensors.Count == 0) throw new ArgumentException("cat: expected a non-empty list of tensors");
        var first = tensors[0];
        int rank = first.dim();
        int d = Shape.Axis(dim, rank, name);
        int total = 0;
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            SameDevice(first, t, name);
            if (t.DType != first.DType) throw new ArgumentException($"cat: tensor {i} is {t.DType}, tensor 0 is {first.DType}");
            if (t.dim() != rank) throw new ArgumentException($"cat: tensor {i} has rank {t.dim()}, tensor 0 has rank {rank}");
            for (int j = 0; j < rank; j++)
                if (j != d && t.size(j) != first.size(j))
                    throw new ArgumentException($"cat: tensor {i} has shape {Shape.Format(t.ShapeSpan)}, which differs from {Shape.Format(first.ShapeSpan)} outside dimension {d}");
            total += t.size(d);
        }
        var shape = first.ShapeArray.ToArray();
        shape[d] = total;
        var y = Tensor.Empty(shape, first.device, first.DType);
        int offset = 0;
        var starts = new int[tensors.Count];
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            starts[i] = offset;
            var part = shape.ToArray();
            part[d] = t.size(d);
            using var window = y.AsStridedRaw(part, y.StrideArray, offset * y.stride(d));
            first.Backend.Copy(t, window);
            offset += t.size(d);
        }
        if (!first.DType.IsFloatingPoint()) return y;
        var inputs = tensors.ToArray();
        return Tape.Record(y, name, inputs, g =>
        {
            var grads = new Tensor?[inputs.Length];
            for (int i = 0; i < inputs.Length; i++)
                if (inputs[i].requires_grad) grads[i] = g.narrow(d, starts[i], inputs[i].size(d));
            return grads;
        });
    }

    /// <summary>Stacks same-shape tensors along a new dimension <paramref name="dim"/>.</summary>
    public static Tensor stack(IReadOnlyList<Tensor> tensors, int dim = 0)
    {
        if (tensors.Count == 0) throw new ArgumentException("stack: expected a non-empty list of tensors");
        for (int i = 1; i < tensors.Count; i++)
            if (!Shape.SameShape(tensors[i].ShapeSpan, tensors[0].ShapeSpan))
                throw new ArgumentException($"stack: tensor {i} has shape {Shape.Format(tensors[i].ShapeSpan)}, tensor 0 has {Shape.Format(tensors[0].ShapeSpan)}");
        int rank = tensors[0].dim() + 1;
        int d = dim < 0 ? dim + rank : dim;
        if (d < 0 || d >= rank) throw new ArgumentOutOfRangeException(nameof(dim), $"stack: dimension {dim} is out of range for rank {rank}");
        var expanded = tensors.Select(t => t.unsqueeze(d)).ToArray();
        var y = cat(expanded, d);
        return y;
    }
}

public static partial class TensorOps
{
    extension(Tensor x)
    {
        /// <summary>Views of <paramref name="splitSize"/> entries along <paramref name="dim"/> (the last may be shorter).</summary>
        public Tensor[] split(int splitSize, int dim = 0)
        {
            if (splitSize <= 0) throw new ArgumentException($"split: split size must be positive, got {splitSize}");
            int d = Shape.Axis(dim, x.dim(), "split");
            int n = x.size(d);
            var parts = new List<Tensor>();
            for (int start = 0; start < n; start += splitSize) parts.Add(x.narrow(d, start, Math.Min(splitSize, n - start)));
            if (n == 0) parts.Add(x.narrow(d, 0, 0));
            return parts.ToArray();
        }

        /// <summary>Views with the given sizes along <paramref name="dim"/>; they must add up to its size.</summary>
        public Tensor[] split(int[] sizes, int dim = 0)
        {
            int d = Shape.Axis(dim, x.dim(), "split");
            if (sizes.Sum() != x.size(d))
                throw new ArgumentException($"split: sizes [{string.Join(", ", sizes)}] add up to {sizes.Sum()}, dimension {d} has {x.size(d)}");
            var parts = new Tensor[sizes.Length];
            int start = 0;
            for (int i = 0; i < sizes.Length; i++) { parts[i] = x.narrow(d, start, sizes[i]); start += sizes[i]; }
            return parts;
        }

        /// <summary><paramref name="chunks"/> views of nearly equal size (ceil), like torch.chunk.</summary>
        public Tensor[] chunk(int chunks, int dim = 0)
        {
            if (chunks <= 0) throw new ArgumentException($"chunk: number of chunks must be positive, got {chunks}");
            int d = Shape.Axis(dim, x.dim(), "chunk");
            int size = (x.size(d) + chunks - 1) / chunks;
            return x.split(Math.Max(size, 1), d);
        }
    }
}
