// Fused losses (definitions: Cpu/Reference/ReferenceLosses.cs). Implicitly grouped, grid-stride.
//  * CrossEntropyForward: one thread per position of contiguous logits (outer, K, inner) — consecutive threads read
//    consecutive positions of each class plane (coalesced for inner > 1). Max, Σ exp and the target logit over K;
//    writes loss, lse and valid (1/0). A target neither in [0, K) nor ignoreIndex is reported (KernelErrors) and the
//    position treated as ignored.
//  * CrossEntropyBackward: one thread per logit: gx = valid·g·(exp(x − lse) − [k = target]); g per position or one
//    value for all (scalarG ≠ 0).
//  * BceWithLogits / BceWithLogitsBackward: one thread per element.
// hasMask = 0 marks an absent selection mask (the view is a placeholder, never read).
using ILGPU;

namespace FsrNative.Kernels.Gpu;

public static class LossKernels
{
    /// <summary>Per position p = (o, i): lse, valid and loss = valid ? lse − x_target : 0; n = outer·inner.</summary>
    [GpuKernel]
    public static void CrossEntropyForward(Index1D index, int n, int step, ArrayView<float> x, ArrayView<int> target, ArrayView<float> mask,
        ArrayView<float> loss, ArrayView<float> lse, ArrayView<float> valid, int k, int inner, int ignoreIndex, int hasMask, ArrayView<int> errors)
    {
        for (int p = index; p < n; p += step)
        {
            int o = p / inner, i = p - o * inner;
            int b = o * k * inner + i;
            int tp = target[p];
            bool ok = tp != ignoreIndex;
            if (ok && (uint)tp >= (uint)k)
            {
                KernelErrors.Report(errors, KernelErrors.CrossEntropy, p, tp, k);
                ok = false;
            }
            if (hasMask != 0 && mask[p] == 0f) ok = false;
            float m = float.NegativeInfinity;
            for (int c = 0; c < k; c++) m = ScalarMath.Binary(BinaryOp.Maximum, m, x[b + c * inner]);
            float s = 0f;
            for (int c = 0; c < k; c++) s += MathF.Exp(x[b + c * inner] - m);
            float l = m + MathF.Log(s);
            lse[p] = l;
            valid[p] = ok ? 1f : 0f;
            int tc = ok ? tp : 0;   // never read through an ignored or invalid target (a select may evaluate both sides)
            loss[p] = ok ? l - x[b + tc * inner] : 0f;
        }
    }

    /// <summary>gx(o, c, i) = valid·g·(exp(x − lse) − [c = target]); n = outer·K·inner.</summary>
    [GpuKernel]
    public static void CrossEntropyBackward(Index1D index, int n, int step, ArrayView<float> x, ArrayView<int> target, ArrayView<float> mask,
        ArrayView<float> lse, ArrayView<float> g, ArrayView<float> gx, int k, int inner, int ignoreIndex, int hasMask, int scalarG)
    {
        for (int e = index; e < n; e += step)
        {
            int i = e % inner, rest = e / inner;
            int c = rest % k, o = rest / k;
            int p = o * inner + i;
            int tp = target[p];
            bool ok = tp != ignoreIndex && (uint)tp < (uint)k && (hasMask == 0 || mask[p] != 0f);
            float gp = scalarG != 0 ? g[0] : g[p];
            gx[e] = ok ? gp * (MathF.Exp(x[e] - lse[p]) - (c == tp ? 1f : 0f)) : 0f;
        }
    }

    /// <summary>loss = max(x, 0) − x·y + log1p(e^−|x|); n elements.</summary>
    [GpuKernel]
    public static void BceWithLogits(Index1D index, int n, int step, ArrayView<float> x, ArrayView<float> y, ArrayView<float> loss)
    {
        for (int e = index; e < n; e += step)
        {
            float v = x[e];
            float u = MathF.Exp(-MathF.Abs(v));
            loss[e] = (v > 0f ? v : 0f) - v * y[e] + Log1p(u);
        }
    }

    /// <summary>gx = g·(σ(x) − y); n elements.</summary>
    [GpuKernel]
    public static void BceWithLogitsBackward(Index1D index, int n, int step, ArrayView<float> x, ArrayView<float> y, ArrayView<float> g, ArrayView<float> gx)
    {
        for (int e = index; e < n; e += step)
        {
            float v = x[e];
            float u = MathF.Exp(-MathF.Abs(v));
            float sigmoid = (v >= 0f ? 1f : u) / (1f + u);
            gx[e] = g[e] * (sigmoid - y[e]);
        }
    }

    /// <summary>log(1 + u) with Goldberg's correction (accurate for small u).</summary>
    static float Log1p(float u)
    {
        float w = 1f + u;
        return w == 1f ? u : MathF.Log(w) * u / (w - 1f);
    }
}
