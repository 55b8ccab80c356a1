// Reductions over the middle axis of a contiguous (outer, r, inner) block, written to (outer, inner):
//  * ...Rows kernels (inner == 1): explicitly grouped, one group per row (grid = outer groups, any group size up to
//    GroupReduce.MaxGroupSize); threads stride over the row, then a shared-memory tree (GroupReduce) combines them.
//  * ...Columns kernels (any inner): implicitly grouped, one work item per output (outer·inner items, grid-stride:
//    launch extent = step), each looping over r in order.
// No float atomics: for a given shape and group size the order of operations is fixed.
using ILGPU;

namespace FsrNative.Kernels.Gpu;

public static class ReduceKernels
{
    static float Identity(ReduceOp op)
        => op == ReduceOp.Max ? float.NegativeInfinity : op == ReduceOp.Min ? float.PositiveInfinity : 0f;

    static float Accumulate(ReduceOp op, float acc, float v)
        => op == ReduceOp.Max ? ScalarMath.Binary(BinaryOp.Maximum, acc, v)
         : op == ReduceOp.Min ? ScalarMath.Binary(BinaryOp.Minimum, acc, v)
         : op == ReduceOp.SumSquares ? acc + v * v
         : acc + v;

    static float Finish(ReduceOp op, float acc, int r) => op == ReduceOp.Mean ? acc / r : acc;

    /// <summary>y[row] = reduce(x[row, 0..r)) for rows × r contiguous x: one group per row.</summary>
    [GpuKernel(ExplicitlyGrouped = true)]
    public static void ReduceRows(ArrayView<float> x, ArrayView<float> y, int rows, int r, ReduceOp op)
    {
        var scratch = SharedMemory.Allocate<float>(GroupReduce.MaxGroupSize);
        int row = Grid.IdxX;
        if (row >= rows) return;   // uniform per group: no thread of it reaches a barrier
        int t = Group.IdxX, step = Group.DimX;
        int baseIndex = row * r;
        float acc = Identity(op);
        for (int j = t; j < r; j += step) acc = Accumulate(op, acc, x[baseIndex + j]);
        float total = GroupReduce.Combine(scratch, acc, op);
        if (t == 0) y[row] = Finish(op, total, r);
    }

    /// <summary>y[o, i] = reduce over j of x[o, j, i]: one thread per output, n = outer·inner.</summary>
    [GpuKernel]
    public static void ReduceColumns(Index1D index, int n, int step, ArrayView<float> x, ArrayView<float> y, int r, int inner, ReduceOp op)
    {
        for (int p = index; p < n; p += step)
        {
            int o = p / inner, i = p - o * inner;
            int baseIndex = o * r * inner + i;
            float acc = Identity(op);
            for (int j = 0; j < r; j++) acc = Accumulate(op, acc, x[baseIndex + j * inner]);
            y[p] = Finish(op, acc, r);
        }
    }

    /// <summary>values[row], indices[row] = the extreme of x[row, 0..r) and its first index (NaN counts as the
    /// extreme): one group per row. r ≥ 1.</summary>
    [GpuKernel(ExplicitlyGrouped = true)]
    public static void ArgReduceRows(ArrayView<float> x, ArrayView<float> values, ArrayView<int> indices, int rows, int r, int max)
    {
        var sv = SharedMemory.Allocate<float>(GroupReduce.MaxGroupSize);
        var si = SharedMemory.Allocate<int>(GroupReduce.MaxGroupSize);
        int row = Grid.IdxX;
        if (row >= rows) return;
        int t = Group.IdxX, step = Group.DimX;
        bool isMax = max != 0;
        int baseIndex = row * r;
        float best = 0f;
        int bestIndex = GroupReduce.NoIndex;
        for (int j = t; j < r; j += step)
        {
            float v = x[baseIndex + j];
            if (GroupReduce.ArgBetter(isMax, v, j, best, bestIndex)) { best = v; bestIndex = j; }
        }
        float value = GroupReduce.Arg(sv, si, best, bestIndex, isMax, out int index);
        if (t == 0)
        {
            values[row] = value;
            indices[row] = index;
        }
    }

    /// <summary>Arg-extreme over j of x[o, j, i]: one thread per output (n = outer·inner), scanning j in order. r ≥ 1.</summary>
    [GpuKernel]
    public static void ArgReduceColumns(Index1D index, int n, int step, ArrayView<float> x, ArrayView<float> values, ArrayView<int> indices,
        int r, int inner, int max)
    {
        for (int p = index; p < n; p += step)
        {
            bool isMax = max != 0;
            int o = p / inner, i = p - o * inner;
            int baseIndex = o * r * inner + i;
            float best = 0f;
            int bestIndex = GroupReduce.NoIndex;
            for (int j = 0; j < r; j++)
            {
                float v = x[baseIndex + j * inner];
                if (GroupReduce.ArgBetter(isMax, v, j, best, bestIndex)) { best = v; bestIndex = j; }
            }
            values[p] = best;
            indices[p] = bestIndex;
        }
    }

    /// <summary>mean[row] and variance[row] = Σ(x − mean)² / max(r − correction, 0) over x[row, 0..r) (two passes):
    /// one group per row.</summary>
    [GpuKernel(ExplicitlyGrouped = true)]
    public static void VarianceRows(ArrayView<float> x, ArrayView<float> variance, ArrayView<float> mean, int rows, int r, float correction)
    {
        var scratch = SharedMemory.Allocate<float>(GroupReduce.MaxGroupSize);
        int row = Grid.IdxX;
        if (row >= rows) return;
        int t = Group.IdxX, step = Group.DimX;
        int baseIndex = row * r;
        float s = 0f;
        for (int j = t; j < r; j += step) s += x[baseIndex + j];
        float m = GroupReduce.Sum(scratch, s) / r;
        float q = 0f;
        for (int j = t; j < r; j += step)
        {
            float d = x[baseIndex + j] - m;
            q += d * d;
        }
        float total = GroupReduce.Sum(scratch, q);
        if (t == 0)
        {
            mean[row] = m;
            variance[row] = total / Max0(r - correction);
        }
    }

    /// <summary>Mean and variance over j of x[o, j, i]: one thread per output (n = outer·inner), two passes.</summary>
    [GpuKernel]
    public static void VarianceColumns(Index1D index, int n, int step, ArrayView<float> x, ArrayView<float> variance, ArrayView<float> mean,
        int r, int inner, float correction)
    {
        for (int p = index; p < n; p += step)
        {
            int o = p / inner, i = p - o * inner;
            int baseIndex = o * r * inner + i;
            float s = 0f;
            for (int j = 0; j < r; j++) s += x[baseIndex + j * inner];
            float m = s / r;
            float q = 0f;
            for (int j = 0; j < r; j++)
            {
                float d = x[baseIndex + j * inner] - m;
                q += d * d;
            }
            mean[p] = m;
            variance[p] = q / Max0(r - correction);
        }
    }

    static float Max0(float v) => v > 0f ? v : 0f;
}
