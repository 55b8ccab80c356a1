// Softmax and log-softmax over the middle axis of a contiguous (outer, l, inner) block, forward and backward:
//  * ...Rows kernels (inner == 1): explicitly grouped, one group per row (grid = outer groups, any group size up to
//    GroupReduce.MaxGroupSize): group max, group Σexp, then each thread writes its strided share of the row.
//  * ...Columns kernels (inner > 1 or short rows): implicitly grouped, one work item per (outer, inner) column
//    looping over l (grid-stride: launch extent = step).
using ILGPU;

namespace FsrNative.Kernels.Gpu;

public static class SoftmaxKernels
{
    /// <summary>y = softmax(x) (or log-softmax when <paramref name="log"/> ≠ 0) along each row of rows × l: one group per row.</summary>
    [GpuKernel(ExplicitlyGrouped = true)]
    public static void SoftmaxRows(ArrayView<float> x, ArrayView<float> y, int rows, int l, int log)
    {
        var scratch = SharedMemory.Allocate<float>(GroupReduce.MaxGroupSize);
        int row = Grid.IdxX;
        if (row >= rows) return;
        int t = Group.IdxX, step = Group.DimX;
        int b = row * l;
        float m = float.NegativeInfinity;
        for (int j = t; j < l; j += step) m = ScalarMath.Binary(BinaryOp.Maximum, m, x[b + j]);
        m = GroupReduce.Extreme(scratch, m, true);
        float s = 0f;
        for (int j = t; j < l; j += step) s += MathF.Exp(x[b + j] - m);
        s = GroupReduce.Sum(scratch, s);
        if (log != 0)
        {
            float logS = MathF.Log(s);
            for (int j = t; j < l; j += step) y[b + j] = x[b + j] - m - logS;
        }
        else
        {
            for (int j = t; j < l; j += step) y[b + j] = MathF.Exp(x[b + j] - m) / s;
        }
    }

    /// <summary>Softmax / log-softmax over j of x[o, j, i]: one thread per column, n = outer·inner.</summary>
    [GpuKernel]
    public static void SoftmaxColumns(Index1D index, int n, int step, ArrayView<float> x, ArrayView<float> y, int l, int inner, int log)
    {
        for (int p = index; p < n; p += step)
        {
            int o = p / inner, i = p - o * inner;
            int b = o * l * inner + i;
            float m = float.NegativeInfinity;
            for (int j = 0; j < l; j++) m = ScalarMath.Binary(BinaryOp.Maximum, m, x[b + j * inner]);
            float s = 0f;
            for (int j = 0; j < l; j++) s += MathF.Exp(x[b + j * inner] - m);
            if (log != 0)
            {
                float logS = MathF.Log(s);
                for (int j = 0; j < l; j++) y[b + j * inner] = x[b + j * inner] - m - logS;
            }
            else
            {
                for (int j = 0; j < l; j++) y[b + j * inner] = MathF.Exp(x[b + j * inner] - m) / s;
            }
        }
    }

    /// <summary>gx from the saved output y and gy, per row of rows × l: softmax gx = y·(gy − Σ gy·y); log-softmax
    /// gx = gy − exp(y)·Σ gy. One group per row.</summary>
    [GpuKernel(ExplicitlyGrouped = true)]
    public static void SoftmaxBackwardRows(ArrayView<float> y, ArrayView<float> gy, ArrayView<float> gx, int rows, int l, int log)
    {
        var scratch = SharedMemory.Allocate<float>(GroupReduce.MaxGroupSize);
        int row = Grid.IdxX;
        if (row >= rows) return;
        int t = Group.IdxX, step = Group.DimX;
        int b = row * l;
        float s = 0f;
        if (log != 0) for (int j = t; j < l; j += step) s += gy[b + j];
        else for (int j = t; j < l; j += step) s += gy[b + j] * y[b + j];
        s = GroupReduce.Sum(scratch, s);
        if (log != 0) for (int j = t; j < l; j += step) gx[b + j] = gy[b + j] - MathF.Exp(y[b + j]) * s;
        else for (int j = t; j < l; j += step) gx[b + j] = y[b + j] * (gy[b + j] - s);
    }

    /// <summary>Softmax backward over j of (o, j, i): one thread per column, n = outer·inner.</summary>
    [GpuKernel]
    public static void SoftmaxBackwardColumns(Index1D index, int n, int step, ArrayView<float> y, ArrayView<float> gy, ArrayView<float> gx,
        int l, int inner, int log)
    {
        for (int p = index; p < n; p += step)
        {
            int o = p / inner, i = p - o * inner;
            int b = o * l * inner + i;
            float s = 0f;
            if (log != 0) for (int j = 0; j < l; j++) s += gy[b + j * inner];
            else for (int j = 0; j < l; j++) s += gy[b + j * inner] * y[b + j * inner];
            if (log != 0) for (int j = 0; j < l; j++) gx[b + j * inner] = gy[b + j * inner] - MathF.Exp(y[b + j * inner]) * s;
            else for (int j = 0; j < l; j++) gx[b + j * inner] = y[b + j * inner] * (gy[b + j * inner] - s);
        }
    }
}
