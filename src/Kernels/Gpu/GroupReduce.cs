using ILGPU;

namespace FsrNative.Kernels.Gpu;

/// <summary>
/// Group-wide tree reductions in shared memory for the one-group-per-row kernels. They work for any group size up
/// to <see cref="MaxGroupSize"/> (not only powers of two): each step folds the upper half of the live range onto the
/// lower half. The order of additions depends only on the group size, so results are deterministic (no atomics).
/// Every thread of the group must call them (they contain group barriers); every thread gets the result.
/// </summary>
public static class GroupReduce
{
    /// <summary>Size of the shared scratch arrays the kernels allocate (and the largest group they accept).</summary>
    public const int MaxGroupSize = 1024;

    /// <summary>Σ of <paramref name="value"/> over the group.</summary>
    public static float Sum(ArrayView<float> scratch, float value)
    {
        int t = Group.IdxX;
        scratch[t] = value;
        Group.Barrier();
        for (int width = Group.DimX; width > 1;)
        {
            int half = (width + 1) >> 1;
            if (t < width - half) scratch[t] = scratch[t] + scratch[t + half];
            Group.Barrier();
            width = half;
        }
        float result = scratch[0];
        Group.Barrier();   // scratch is reused by the next reduction
        return result;
    }

    /// <summary>The NaN-propagating maximum (<paramref name="max"/>) or minimum of <paramref name="value"/> over the group.</summary>
    public static float Extreme(ArrayView<float> scratch, float value, bool max)
    {
        int t = Group.IdxX;
        scratch[t] = value;
        Group.Barrier();
        var op = max ? BinaryOp.Maximum : BinaryOp.Minimum;
        for (int width = Group.DimX; width > 1;)
        {
            int half = (width + 1) >> 1;
            if (t < width - half) scratch[t] = ScalarMath.Binary(op, scratch[t], scratch[t + half]);
            Group.Barrier();
            width = half;
        }
        float result = scratch[0];
        Group.Barrier();
        return result;
    }

    /// <summary>Combines partial results of <see cref="ReduceOp"/> <paramref name="op"/> (sums for Sum, Mean, SumSquares).</summary>
    public static float Combine(ArrayView<float> scratch, float value, ReduceOp op)
        => op == ReduceOp.Max ? Extreme(scratch, value, true)
         : op == ReduceOp.Min ? Extreme(scratch, value, false)
         : Sum(scratch, value);

    /// <summary>The best (value, index) pair of the group under <see cref="ArgBetter"/>; returns the value, the index in
    /// <paramref name="bestIndex"/>.</summary>
    public static float Arg(ArrayView<float> values, ArrayView<int> indices, float value, int index, bool max, out int bestIndex)
    {
        int t = Group.IdxX;
        values[t] = value;
        indices[t] = index;
        Group.Barrier();
        for (int width = Group.DimX; width > 1;)
        {
            int half = (width + 1) >> 1;
            if (t < width - half && ArgBetter(max, values[t + half], indices[t + half], values[t], indices[t]))
            {
                values[t] = values[t + half];
                indices[t] = indices[t + half];
            }
            Group.Barrier();
            width = half;
        }
        float result = values[0];
        bestIndex = indices[0];
        Group.Barrier();
        return result;
    }

    /// <summary>Index value meaning "no element seen" in arg reductions (never better than a real candidate).</summary>
    public const int NoIndex = int.MaxValue;

    /// <summary>
    /// Whether candidate (v, iv) beats (w, iw) for argmax (<paramref name="max"/>) or argmin, with PyTorch's rule: NaN
    /// is the extreme, and among equal values (or NaNs) the smaller index wins. This makes the group tree give exactly
    /// the first extreme index, as a sequential scan does.
    /// </summary>
    public static bool ArgBetter(bool max, float v, int iv, float w, int iw)
    {
        if (iv == NoIndex) return false;
        if (iw == NoIndex) return true;
        bool vn = GpuMath.IsNaN(v), wn = GpuMath.IsNaN(w);
        if (vn || wn) return vn && (!wn || iv < iw);
        if (v == w) return iv < iw;
        return max ? v > w : v < w;
    }
}
