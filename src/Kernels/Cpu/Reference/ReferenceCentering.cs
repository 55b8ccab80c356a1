using System.Numerics;

namespace FsrNative.Kernels.Cpu.Reference;

/// <summary>
/// The definition of the fused DINO cross-entropy between a centred, sharpened teacher distribution and a student
/// log-distribution, per row of (rows, d), generic over the float type (the Float64 path and the test reference of
/// <see cref="CpuDino"/>):
/// <code>
/// zt = (t − c)·(1/τt)   p_t = softmax(zt)   lse_t = log Σ exp(zt)
/// zs = s·(1/τs)         lse_s = log Σ exp(zs)
/// H  = −Σ p_t·log_softmax(zs) = Σ_j p_t,j·(lse_s − zs_j)
/// ∂H/∂s_j = (softmax(zs)_j − p_t,j)/τs        ∂H/∂t_j = p_t,j·(lse_s − zs_j − H)/τt
/// </code>
/// The temperatures enter as reciprocals (multiplications), as the fast kernels do.
/// </summary>
public static class ReferenceCentering<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static void Forward(ReadOnlySpan<T> student, ReadOnlySpan<T> teacher, ReadOnlySpan<T> center, Span<T> loss,
        Span<T> lseS, Span<T> lseT, int rows, int d, T invTs, T invTt)
    {
        for (int r = 0; r < rows; r++)
        {
            var s = student.Slice(r * d, d);
            var t = teacher.Slice(r * d, d);
            T ms = T.NegativeInfinity, mt = T.NegativeInfinity;
            for (int j = 0; j < d; j++)
            {
                ms = T.MaxNumber(ms, s[j] * invTs);
                mt = T.MaxNumber(mt, (t[j] - center[j]) * invTt);
            }
            T ss = T.Zero, st = T.Zero, a = T.Zero;
            for (int j = 0; j < d; j++)
            {
                T zs = s[j] * invTs;
                T et = T.Exp((t[j] - center[j]) * invTt - mt);
                ss += T.Exp(zs - ms);
                st += et;
                a += et * (ms - zs);
            }
            lseS[r] = ms + T.Log(ss);
            lseT[r] = mt + T.Log(st);
            loss[r] = T.Log(ss) + a / st;
        }
    }

    /// <summary>gs (and gt when not empty) from the per-row upstream gradient g (rows) and the saved statistics.</summary>
    public static void Backward(ReadOnlySpan<T> student, ReadOnlySpan<T> teacher, ReadOnlySpan<T> center, ReadOnlySpan<T> loss,
        ReadOnlySpan<T> lseS, ReadOnlySpan<T> lseT, ReadOnlySpan<T> g, Span<T> gs, Span<T> gt, int rows, int d, T invTs, T invTt)
    {
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < d; j++)
            {
                int k = r * d + j;
                T zs = student[k] * invTs;
                T pt = T.Exp((teacher[k] - center[j]) * invTt - lseT[r]);
                if (!gs.IsEmpty) gs[k] = g[r] * invTs * (T.Exp(zs - lseS[r]) - pt);
                if (!gt.IsEmpty) gt[k] = g[r] * invTt * pt * (lseS[r] - zs - loss[r]);
            }
        }
    }
}
