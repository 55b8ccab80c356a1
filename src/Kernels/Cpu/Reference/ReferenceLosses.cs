using System.Numerics;

namespace FsrNative.Kernels.Cpu.Reference;

/// <summary>
/// The definitions of the fused loss kernels, generic over the float type (Float64 path and test reference of
/// <see cref="CpuLosses"/>).
/// <para>Cross-entropy over the class axis of contiguous logits (outer, K, inner) — (B, K) is outer = B, inner = 1;
/// (B, K, H, W) is outer = B, inner = H·W — against Int32 targets (outer, inner). A position is <i>valid</i> when its
/// target is not <c>ignoreIndex</c> and, with a selection mask, its mask value is non-zero. Per position:
/// lse = m + log Σ_k exp(x_k − m), loss = valid ? lse − x_target : 0, valid as 1/0. Backward:
/// gx_k = valid ? g·(exp(x_k − lse) − [k = target]) : 0, with g per position or one value for all.</para>
/// <para>Binary cross-entropy with logits, elementwise: loss = max(x, 0) − x·y + log1p(e^−|x|) (no overflow for any
/// x), gx = g·(σ(x) − y) with σ evaluated from e^−|x| on the stable side.</para>
/// </summary>
public static class ReferenceLosses<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Returns −1, or the position of the first target that is neither in [0, K) nor <paramref name="ignoreIndex"/>
    /// (then nothing is written).</summary>
    public static int CrossEntropy(ReadOnlySpan<T> x, ReadOnlySpan<int> target, ReadOnlySpan<T> mask, Span<T> loss, Span<T> lse, Span<T> valid,
        int outer, int k, int inner, int ignoreIndex)
    {
        int bad = FirstInvalidTarget(target, k, ignoreIndex);
        if (bad >= 0) return bad;
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int p = o * inner + i, b = o * k * inner + i;
                T m = T.NegativeInfinity;
                for (int c = 0; c < k; c++) m = T.Max(m, x[b + c * inner]);
                T s = T.Zero;
                for (int c = 0; c < k; c++) s += T.Exp(x[b + c * inner] - m);
                T l = m + T.Log(s);
                lse[p] = l;
                bool ok = target[p] != ignoreIndex && (mask.IsEmpty || mask[p] != T.Zero);
                valid[p] = ok ? T.One : T.Zero;
                loss[p] = ok ? l - x[b + target[p] * inner] : T.Zero;
            }
        return -1;
    }

    /// <summary>gx from the saved lse; <paramref name="g"/> has one element (the same for every position) or outer·inner.</summary>
    public static void CrossEntropyBackward(ReadOnlySpan<T> x, ReadOnlySpan<int> target, ReadOnlySpan<T> mask, ReadOnlySpan<T> lse, ReadOnlySpan<T> g,
        Span<T> gx, int outer, int k, int inner, int ignoreIndex)
    {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int p = o * inner + i, b = o * k * inner + i;
                bool ok = target[p] != ignoreIndex && (mask.IsEmpty || mask[p] != T.Zero);
                T gp = g.Length == 1 ? g[0] : g[p];
                for (int c = 0; c < k; c++)
                    gx[b + c * inner] = ok ? gp * (T.Exp(x[b + c * inner] - lse[p]) - (c == target[p] ? T.One : T.Zero)) : T.Zero;
            }
    }

    public static int FirstInvalidTarget(ReadOnlySpan<int> target, int k, int ignoreIndex)
    {
        for (int p = 0; p < target.Length; p++)
            if (target[p] != ignoreIndex && (uint)target[p] >= (uint)k) return p;
        return -1;
    }

    public static void BceWithLogits(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> loss)
    {
        for (int i = 0; i < x.Length; i++)
        {
            T u = T.Exp(-T.Abs(x[i]));
            loss[i] = T.Max(x[i], T.Zero) - x[i] * y[i] + Log1p(u);
        }
    }

    public static void BceWithLogitsBackward(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> g, Span<T> gx)
    {
        for (int i = 0; i < x.Length; i++)
        {
            T u = T.Exp(-T.Abs(x[i]));
            T sigmoid = (x[i] >= T.Zero ? T.One : u) / (T.One + u);
            gx[i] = g[i] * (sigmoid - y[i]);
        }
    }

    /// <summary>log(1 + u) without cancellation for small u (Goldberg: log(w)·u/(w − 1) with w = 1 + u rounded).</summary>
    public static T Log1p(T u)
    {
        T w = T.One + u;
        return w == T.One ? u : T.Log(w) * u / (w - T.One);
    }
}
