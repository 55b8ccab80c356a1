// Layer normalisation over the last axis of a contiguous (rows, c) block:
//  * LayerNormRows / LayerNormBackwardRows: explicitly grouped, one group per row (grid = rows groups, any group size
//    up to GroupReduce.MaxGroupSize); the row statistics come from GroupReduce trees.
//  * LayerNormParamGrads: implicitly grouped, one work item per column j (grid-stride over c) looping over the rows:
//    gGamma[j] = Σ gy·x̂ and gBeta[j] = Σ gy without atomics.
// gamma/beta are optional: a 0 flag means "absent" (the view passed is then a placeholder and never read).
using ILGPU;

namespace FsrNative.Kernels.Gpu;

public static class LayerNormKernels
{
    /// <summary>y = (x − mean)·rstd·gamma + beta per row, rstd = 1/√(var + eps) with the biased variance (two passes);
    /// saves mean[row] and rstd[row]. One group per row.</summary>
    [GpuKernel(ExplicitlyGrouped = true)]
    public static void LayerNormRows(ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> y,
        ArrayView<float> mean, ArrayView<float> rstd, int rows, int c, float eps, int hasGamma, int hasBeta)
    {
        var scratch = SharedMemory.Allocate<float>(GroupReduce.MaxGroupSize);
        int row = Grid.IdxX;
        if (row >= rows) return;
        int t = Group.IdxX, step = Group.DimX;
        int b = row * c;
        float s = 0f;
        for (int j = t; j < c; j += step) s += x[b + j];
        float m = GroupReduce.Sum(scratch, s) / c;
        float q = 0f;
        for (int j = t; j < c; j += step)
        {
            float d = x[b + j] - m;
            q += d * d;
        }
        float rs = 1f / MathF.Sqrt(GroupReduce.Sum(scratch, q) / c + eps);
        for (int j = t; j < c; j += step)
        {
            float v = (x[b + j] - m) * rs;
            if (hasGamma != 0) v *= gamma[j];
            if (hasBeta != 0) v += beta[j];
            y[b + j] = v;
        }
        if (t == 0)
        {
            mean[row] = m;
            rstd[row] = rs;
        }
    }

    /// <summary>gx = rstd·(g − mean(g) − x̂·mean(g·x̂)) per row with g = gy·gamma and x̂ = (x − mean)·rstd. One group per row.</summary>
    [GpuKernel(ExplicitlyGrouped = true)]
    public static void LayerNormBackwardRows(ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> mean, ArrayView<float> rstd,
        ArrayView<float> gy, ArrayView<float> gx, int rows, int c, int hasGamma)
    {
        var scratch = SharedMemory.Allocate<float>(GroupReduce.MaxGroupSize);
        int row = Grid.IdxX;
        if (row >= rows) return;
        int t = Group.IdxX, step = Group.DimX;
        int b = row * c;
        float m = mean[row], rs = rstd[row];
        float s1 = 0f, s2 = 0f;
        for (int j = t; j < c; j += step)
        {
            float xh = (x[b + j] - m) * rs;
            float g = gy[b + j] * (hasGamma != 0 ? gamma[j] : 1f);
            s1 += g;
            s2 += g * xh;
        }
        s1 = GroupReduce.Sum(scratch, s1) / c;
        s2 = GroupReduce.Sum(scratch, s2) / c;
        for (int j = t; j < c; j += step)
        {
            float xh = (x[b + j] - m) * rs;
            float g = gy[b + j] * (hasGamma != 0 ? gamma[j] : 1f);
            gx[b + j] = rs * (g - s1 - xh * s2);
        }
    }

    /// <summary>gGamma[j] = Σ_rows gy·x̂ and gBeta[j] = Σ_rows gy (each when its flag is set): one thread per column
    /// j &lt; c, rows summed in order.</summary>
    [GpuKernel]
    public static void LayerNormParamGrads(Index1D index, int c, int step, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> rstd,
        ArrayView<float> gy, ArrayView<float> gGamma, ArrayView<float> gBeta, int rows, int hasGGamma, int hasGBeta)
    {
        for (int j = index; j < c; j += step)
        {
            float sg = 0f, sb = 0f;
            for (int r = 0; r < rows; r++)
            {
                float g = gy[r * c + j];
                sg += g * ((x[r * c + j] - mean[r]) * rstd[r]);
                sb += g;
            }
            if (hasGGamma != 0) gGamma[j] = sg;
            if (hasGBeta != 0) gBeta[j] = sb;
        }
    }
}
