namespace FsrNative;

/// <summary>Shape and stride arithmetic shared by the op layer and the backends.</summary>
public static class Shape
{
    public static int NumEl(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int d in shape)
        {
            n *= d;
            if (n > int.MaxValue) throw new ArgumentException($"shape {Format(shape)} has more than 2^31−1 elements, the most one tensor can hold");
        }
        return (int)n;
    }

    public static void Validate(ReadOnlySpan<int> shape, string op)
    {
        foreach (int d in shape)
            if (d < 0) throw new ArgumentException($"{op}: negative dimension {d} in shape {Format(shape)}");
        NumEl(shape);
    }

    /// <summary>Row-major strides of a contiguous tensor of this shape.</summary>
    public static int[] ContiguousStrides(ReadOnlySpan<int> shape)
    {
        var strides = new int[shape.Length];
        int s = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = s;
            s *= Math.Max(shape[i], 1);
        }
        return strides;
    }

    /// <summary>True when the layout visits memory in row-major order with no gaps (size-1 dims may have any stride).</summary>
    public static bool IsContiguous(ReadOnlySpan<int> shape, ReadOnlySpan<int> strides)
    {
        int expected = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            if (shape[i] == 1) continue;
            if (shape[i] == 0) return true;
            if (strides[i] != expected) return false;
            expected *= shape[i];
        }
        return true;
    }

    /// <summary>Normalises a possibly negative axis; throws naming the op when out of range. A 0-D tensor accepts
    /// 0 and −1 (PyTorch wraps scalars as if they had one dimension).</summary>
    public static int Axis(int axis, int rank, string op)
    {
        int r = Math.Max(rank, 1);
        int a = axis < 0 ? axis + r : axis;
        if (a < 0 || a >= r)
            throw new ArgumentOutOfRangeException(nameof(axis), $"{op}: dimension {axis} is out of range for a tensor of rank {rank}");
        return a;
    }

    /// <summary>The NumPy broadcast of two shapes; throws naming the op and both shapes when they don't broadcast.</summary>
    public static int[] Broadcast(ReadOnlySpan<int> a, ReadOnlySpan<int> b, string op)
    {
        int rank = Math.Max(a.Length, b.Length);
        var result = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            int db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"{op}: shapes {Format(a)} and {Format(b)} do not broadcast (dimension {i}: {da} vs {db})");
            result[i] = da == 1 ? db : da;
        }
        return result;
    }

    /// <summary>Strides that read a tensor of layout (shape, strides) as if expanded to <paramref name="target"/>
    /// (0 along broadcast dimensions).</summary>
    public static int[] BroadcastStrides(ReadOnlySpan<int> shape, ReadOnlySpan<int> strides, ReadOnlySpan<int> target)
    {
        var result = new int[target.Length];
        int lead = target.Length - shape.Length;
        if (lead < 0) throw new ArgumentException($"cannot expand shape {Format(shape)} to the smaller rank of {Format(target)}");
        for (int i = 0; i < shape.Length; i++)
        {
            int t = target[lead + i];
            if (shape[i] == t) result[lead + i] = t == 1 ? 0 : strides[i];
            else if (shape[i] == 1) result[lead + i] = 0;
            else throw new ArgumentException($"cannot expand shape {Format(shape)} to {Format(target)}");
        }
        return result;
    }

    public static bool SameShape(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);

    public static string Format(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";

    /// <summary>
    /// Merges adjacent dimensions that can be walked as one (for every operand, stride[i] == stride[i+1]·size[i+1])
    /// and drops size-1 dimensions. Returns the reduced shape and, per operand, the reduced strides. Iterating the
    /// result visits the same elements in the same order with fewer, longer loops.
    /// </summary>
    public static (int[] shape, int[][] strides) Coalesce(ReadOnlySpan<int> shape, params int[][] strides)
    {
        var outShape = new List<int>(shape.Length);
        var outStrides = new List<int>[strides.Length];
        for (int k = 0; k < strides.Length; k++) outStrides[k] = new List<int>(shape.Length);
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == 1) continue;
            int last = outShape.Count - 1;
            bool merge = last >= 0;
            for (int k = 0; k < strides.Length && merge; k++)
                if (outStrides[k][last] != strides[k][i] * shape[i]) merge = false;
            if (merge)
            {
                outShape[last] *= shape[i];
                for (int k = 0; k < strides.Length; k++) outStrides[k][last] = strides[k][i];
            }
            else
            {
                outShape.Add(shape[i]);
                for (int k = 0; k < strides.Length; k++) outStrides[k].Add(strides[k][i]);
            }
        }
        if (outShape.Count == 0)
        {
            outShape.Add(1);
            for (int k = 0; k < strides.Length; k++) outStrides[k].Add(0);
        }
        var result = new int[strides.Length][];
        for (int k = 0; k < strides.Length; k++) result[k] = outStrides[k].ToArray();
        return (outShape.ToArray(), result);
    }

    /// <summary>
    /// If the tensor's memory can be viewed with <paramref name="newShape"/> without a copy, the strides for it;
    /// else null (PyTorch's <c>view</c> rule: each group of old dims that maps to new dims must be contiguous within).
    /// </summary>
    public static int[]? ViewStrides(ReadOnlySpan<int> oldShape, ReadOnlySpan<int> oldStrides, ReadOnlySpan<int> newShape)
    {
        int numel = NumEl(oldShape);
        if (numel == 0 || IsContiguous(oldShape, oldStrides)) return ContiguousStrides(newShape);
        var newStrides = new int[newShape.Length];
        int viewD = newShape.Length - 1;
        int chunkBaseStride = oldStrides.Length > 0 ? oldStrides[^1] : 1;
        long tensorNumel = 1, viewNumel = 1;
        for (int tensorD = oldShape.Length - 1; tensorD >= 0; tensorD--)
        {
            tensorNumel *= oldShape[tensorD];
            if (tensorD == 0 || (oldShape[tensorD - 1] != 1 && oldStrides[tensorD - 1] != tensorNumel * chunkBaseStride))
            {
                while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] == 1))
                {
                    newStrides[viewD] = (int)(viewNumel * chunkBaseStride);
                    viewNumel *= newShape[viewD];
                    viewD--;
                }
                if (viewNumel != tensorNumel) return null;
                if (tensorD > 0)
                {
                    chunkBaseStride = oldStrides[tensorD - 1];
                    tensorNumel = 1;
                    viewNumel = 1;
                }
            }
        }
        if (viewD != -1) return null;
        return newStrides;
    }

    /// <summary>Resolves one −1 in a requested shape from the element count; validates the product.</summary>
    public static int[] Infer(ReadOnlySpan<int> requested, int numel, string op)
    {
        var result = requested.ToArray();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < result.Length; i++)
        {
            if (result[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException($"{op}: only one dimension can be -1 in {Format(requested)}");
                infer = i;
            }
            else if (result[i] < 0) throw new ArgumentException($"{op}: invalid dimension {result[i]} in {Format(requested)}");
            else known *= result[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || numel % known != 0)
                throw new ArgumentException($"{op}: shape {Format(requested)} is invalid for a tensor of {numel} elements");
            result[infer] = (int)(numel / known);
        }
        else if (known != numel)
            throw new ArgumentException($"{op}: shape {Format(requested)} is invalid for a tensor of {numel} elements");
        return result;
    }
}
