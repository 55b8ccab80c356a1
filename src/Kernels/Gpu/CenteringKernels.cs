// The fused DINO cross-entropy over rows of (rows, d) (definition: Cpu/Reference/ReferenceCentering.cs):
//  * DinoForwardRows: explicitly grouped, one group per row (grid = rows groups, any group size up to
//    GroupReduce.MaxGroupSize; the backend picks 32–256 threads to cover the row). Two passes over the row: the group
//    maxima of s and t − c (two GroupReduce trees), then Σ exp(zs − ms), Σ exp(zt − mt), Σ exp(zt − mt)·(ms − zs)
//    (three trees); thread 0 writes loss, lse_s and lse_t. Shared memory: one float per thread (4 KB declared).
//  * DinoBackward: implicitly grouped, one thread per element (no reductions: the row statistics are saved), writing
//    gs and/or gt; a 0 flag marks an absent output (its view is a placeholder, never written).
// Temperatures enter as reciprocals, as on the CPU. No atomics.
using ILGPU;

namespace FsrNative.Kernels.Gpu;

public static class CenteringKernels
{
    /// <summary>Per row: loss = Σ p_t·(lse_s − zs), lse_s, lse_t, with zs = s/τs, zt = (t − c)/τt. One group per row.</summary>
    [GpuKernel(ExplicitlyGrouped = true)]
    public static void DinoForwardRows(ArrayView<float> s, ArrayView<float> t, ArrayView<float> c, ArrayView<float> loss,
        ArrayView<float> lseS, ArrayView<float> lseT, int rows, int d, float invTs, float invTt)
    {
        var scratch = SharedMemory.Allocate<float>(GroupReduce.MaxGroupSize);
        int row = Grid.IdxX;
        if (row >= rows) return;
        int tid = Group.IdxX, step = Group.DimX;
        int b = row * d;
        float maxS = float.NegativeInfinity, maxT = float.NegativeInfinity;
        for (int j = tid; j < d; j += step)
        {
            maxS = ScalarMath.Binary(BinaryOp.Maximum, maxS, s[b + j]);
            maxT = ScalarMath.Binary(BinaryOp.Maximum, maxT, t[b + j] - c[j]);
        }
        float ms = GroupReduce.Extreme(scratch, maxS, true) * invTs;
        float mt = GroupReduce.Extreme(scratch, maxT, true) * invTt;
        float sumS = 0f, sumT = 0f, sumA = 0f;
        for (int j = tid; j < d; j += step)
        {
            float zs = s[b + j] * invTs;
            float et = MathF.Exp((t[b + j] - c[j]) * invTt - mt);
            sumS += MathF.Exp(zs - ms);
            sumT += et;
            sumA += et * (ms - zs);
        }
        sumS = GroupReduce.Sum(scratch, sumS);
        sumT = GroupReduce.Sum(scratch, sumT);
        sumA = GroupReduce.Sum(scratch, sumA);
        if (tid == 0)
        {
            float logS = MathF.Log(sumS);
            lseS[row] = ms + logS;
            lseT[row] = mt + MathF.Log(sumT);
            loss[row] = logS + sumA / sumT;
        }
    }

    /// <summary>gs = g·(e^{zs − lse_s} − p_t)/τs (when wantS ≠ 0), gt = g·p_t·(lse_s − zs − H)/τt (when wantT ≠ 0);
    /// one thread per element, n = rows·d.</summary>
    [GpuKernel]
    public static void DinoBackward(Index1D index, int n, int step, ArrayView<float> s, ArrayView<float> t, ArrayView<float> c,
        ArrayView<float> loss, ArrayView<float> lseS, ArrayView<float> lseT, ArrayView<float> g, ArrayView<float> gs, ArrayView<float> gt,
        DinoBackwardArgs a)
    {
        for (int e = index; e < n; e += step)
        {
            int row = e / a.D, j = e - row * a.D;
            float zs = s[e] * a.InvTs;
            float pt = MathF.Exp((t[e] - c[j]) * a.InvTt - lseT[row]);
            float gr = g[row];
            if (a.WantS != 0) gs[e] = gr * a.InvTs * (MathF.Exp(zs - lseS[row]) - pt);
            if (a.WantT != 0) gt[e] = gr * a.InvTt * pt * (lseS[row] - zs - loss[row]);
        }
    }
}

/// <summary>The scalar arguments of <see cref="CenteringKernels.DinoBackward"/> (one struct keeps the kernel under
/// ILGPU's loader arity): row width, reciprocal temperatures, and which gradients to write (1/0).</summary>
public struct DinoBackwardArgs
{
    public int D;
    public float InvTs, InvTt;
    public int WantS, WantT;
}
