using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using FsrNative.Kernels.Cpu.Reference;

namespace FsrNative.Kernels.Cpu;

/// <summary>
/// The fused DINO cross-entropy (definition: <see cref="ReferenceCentering{T}"/>) over rows of (rows, d), Vector256,
/// rows split over cores. Per row, forward: pass 1 finds max(s) and max(t − c) (rounding is monotone, so scaling the
/// maxima by 1/τ gives the maxima of the scaled logits); pass 2 computes both exps per element and three sums —
/// Σ exp(zs − ms), Σ exp(zt − mt) and Σ exp(zt − mt)·(ms − zs), whose terms are all ≥ 0 — and the row's loss
/// H = log Σs + (Σ e_t·(ms − zs))/Σt. A 4096-wide row pair is 32 KB, so pass 2 reads from L1/L2. Saved for the backward:
/// lse_s and lse_t per row (the probabilities are recomputed there: two exps per element instead of 2·rows·d floats).
/// Backward, one pass per row: gs = g·(e^{zs − lse_s} − e^{zt − lse_t})/τs and, when asked, gt = g·p_t·(lse_s − zs − H)/τt.
/// </summary>
public static unsafe class CpuDino
{
    public static void Forward(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, ReadOnlySpan<float> center, Span<float> loss,
        Span<float> lseS, Span<float> lseT, int rows, int d, float invTs, float invTt)
    {
        Check(student.Length, teacher.Length, center.Length, loss.Length, rows, d);
        if (rows == 0) return;
        if (!CpuVecMath.IsSupported || d == 0)
        {
            ReferenceCentering<float>.Forward(student, teacher, center, loss, lseS, lseT, rows, d, invTs, invTt);
            return;
        }
        fixed (float* ps0 = student, pt0 = teacher, pc0 = center, pl0 = loss, pls0 = lseS, plt0 = lseT)
        {
            float* ps = ps0, pt = pt0, pc = pc0, pl = pl0, pls = pls0, plt = plt0;
            CpuParallel.For(rows, 60L * d, 1, (s, e) =>
            {
                for (long r = s; r < e; r++) ForwardRow(ps + r * d, pt + r * d, pc, d, invTs, invTt, pl + r, pls + r, plt + r);
            });
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void ForwardRow(float* s, float* t, float* c, int d, float invTs, float invTt, float* loss, float* lseS, float* lseT)
    {
        var ninf = Vector256.Create(float.NegativeInfinity);
        var ms0 = ninf; var ms1 = ninf; var mt0 = ninf; var mt1 = ninf;
        int j = 0;
        for (; j <= d - 16; j += 16)
        {
            ms0 = Avx.Max(ms0, Avx.LoadVector256(s + j));
            ms1 = Avx.Max(ms1, Avx.LoadVector256(s + j + 8));
            mt0 = Avx.Max(mt0, Avx.Subtract(Avx.LoadVector256(t + j), Avx.LoadVector256(c + j)));
            mt1 = Avx.Max(mt1, Avx.Subtract(Avx.LoadVector256(t + j + 8), Avx.LoadVector256(c + j + 8)));
        }
        for (; j < d; j += 8)
        {
            int r = Math.Min(8, d - j);
            var mask = CpuVecMath.TailMask(r);
            ms0 = Avx.Max(ms0, Avx.BlendVariable(ninf, CpuVecMath.LoadTail(s + j, r), mask));
            mt0 = Avx.Max(mt0, Avx.BlendVariable(ninf, Avx.Subtract(CpuVecMath.LoadTail(t + j, r), CpuVecMath.LoadTail(c + j, r)), mask));
        }
        float ms = CpuVecMath.HorizontalMax(Avx.Max(ms0, ms1)) * invTs;
        float mt = CpuVecMath.HorizontalMax(Avx.Max(mt0, mt1)) * invTt;

        var vis = Vector256.Create(invTs); var vit = Vector256.Create(invTt);
        var vms = Vector256.Create(ms); var vmt = Vector256.Create(mt);
        var sumS = Vector256<float>.Zero; var sumT = sumS; var sumA = sumS;
        for (j = 0; j < d; j += 8)
        {
            int r = Math.Min(8, d - j);
            Vector256<float> sv, tv, cv;
            if (r == 8) { sv = Avx.LoadVector256(s + j); tv = Avx.LoadVector256(t + j); cv = Avx.LoadVector256(c + j); }
            else { sv = CpuVecMath.LoadTail(s + j, r); tv = CpuVecMath.LoadTail(t + j, r); cv = CpuVecMath.LoadTail(c + j, r); }
            var zs = Avx.Multiply(sv, vis);
            var zt = Avx.Multiply(Avx.Subtract(tv, cv), vit);
            var es = CpuVecMath.ExpNonPositive(Avx.Subtract(zs, vms));
            var et = CpuVecMath.ExpNonPositive(Avx.Subtract(zt, vmt));
            var a = Avx.Multiply(et, Avx.Subtract(vms, zs));
            if (r < 8)
            {
                var mask = CpuVecMath.TailMask(r);
                es = Avx.And(es, mask); et = Avx.And(et, mask); a = Avx.And(a, mask);
            }
            sumS = Avx.Add(sumS, es);
            sumT = Avx.Add(sumT, et);
            sumA = Avx.Add(sumA, a);
        }
        float ss = CpuVecMath.HorizontalSum(sumS), st = CpuVecMath.HorizontalSum(sumT), sa = CpuVecMath.HorizontalSum(sumA);
        float logSs = MathF.Log(ss);
        *lseS = ms + logSs;
        *lseT = mt + MathF.Log(st);
        *loss = logSs + sa / st;
    }

    /// <summary>gs (when not empty) and gt (when not empty), each (rows, d), from the per-row upstream gradient g.</summary>
    public static void Backward(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, ReadOnlySpan<float> center, ReadOnlySpan<float> loss,
        ReadOnlySpan<float> lseS, ReadOnlySpan<float> lseT, ReadOnlySpan<float> g, Span<float> gs, Span<float> gt, int rows, int d, float invTs, float invTt)
    {
        Check(student.Length, teacher.Length, center.Length, loss.Length, rows, d);
        if ((!gs.IsEmpty && gs.Length != student.Length) || (!gt.IsEmpty && gt.Length != student.Length) || g.Length != rows)
            throw new ArgumentException($"CpuDino.Backward: gradient lengths {gs.Length}, {gt.Length} (rows·d = {student.Length}) and {g.Length} (rows = {rows})");
        if (rows == 0 || d == 0) return;
        if (!CpuVecMath.IsSupported)
        {
            ReferenceCentering<float>.Backward(student, teacher, center, loss, lseS, lseT, g, gs, gt, rows, d, invTs, invTt);
            return;
        }
        bool wantS = !gs.IsEmpty, wantT = !gt.IsEmpty;
        fixed (float* ps0 = student, pt0 = teacher, pc0 = center, pl0 = loss, pls0 = lseS, plt0 = lseT, pg0 = g, pgs0 = gs, pgt0 = gt)
        {
            float* ps = ps0, pt = pt0, pc = pc0, pl = pl0, pls = pls0, plt = plt0, pg = pg0, pgs = pgs0, pgt = pgt0;
            CpuParallel.For(rows, 60L * d, 1, (s, e) =>
            {
                for (long r = s; r < e; r++)
                    BackwardRow(ps + r * d, pt + r * d, pc, d, invTs, invTt, pl[r], pls[r], plt[r], pg[r],
                        wantS ? pgs + r * d : null, wantT ? pgt + r * d : null);
            });
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void BackwardRow(float* s, float* t, float* c, int d, float invTs, float invTt, float loss, float lseS, float lseT, float g,
        float* gs, float* gt)
    {
        var vis = Vector256.Create(invTs); var vit = Vector256.Create(invTt);
        var vls = Vector256.Create(lseS); var vlt = Vector256.Create(lseT);
        var cs = Vector256.Create(g * invTs); var ct = Vector256.Create(g * invTt);
        var vh = Vector256.Create(loss);
        for (int j = 0; j < d; j += 8)
        {
            int r = Math.Min(8, d - j);
            Vector256<float> sv, tv, cv;
            if (r == 8) { sv = Avx.LoadVector256(s + j); tv = Avx.LoadVector256(t + j); cv = Avx.LoadVector256(c + j); }
            else { sv = CpuVecMath.LoadTail(s + j, r); tv = CpuVecMath.LoadTail(t + j, r); cv = CpuVecMath.LoadTail(c + j, r); }
            var zs = Avx.Multiply(sv, vis);
            var pt = CpuVecMath.ExpNonPositive(Avx.Subtract(Avx.Multiply(Avx.Subtract(tv, cv), vit), vlt));   // zt − lse_t ≤ 0 (up to rounding)
            if (gs != null)
            {
                var v = Avx.Multiply(cs, Avx.Subtract(CpuVecMath.ExpNonPositive(Avx.Subtract(zs, vls)), pt));
                if (r == 8) Avx.Store(gs + j, v); else CpuVecMath.StoreTail(gs + j, v, r);
            }
            if (gt != null)
            {
                var v = Avx.Multiply(Avx.Multiply(ct, pt), Avx.Subtract(Avx.Subtract(vls, zs), vh));
                if (r == 8) Avx.Store(gt + j, v); else CpuVecMath.StoreTail(gt + j, v, r);
            }
        }
    }

    static void Check(int sLen, int tLen, int cLen, int lossLen, int rows, int d)
    {
        if (rows < 0 || d < 0) throw new ArgumentException($"CpuDino: negative shape ({rows}, {d})");
        if ((long)rows * d != sLen || tLen != sLen)
            throw new ArgumentException($"CpuDino: student/teacher lengths {sLen}, {tLen}, expected rows·d = {rows}·{d}");
        if (cLen != d) throw new ArgumentException($"CpuDino: center has {cLen} elements, expected d = {d}");
        if (lossLen != rows) throw new ArgumentException($"CpuDino: loss has {lossLen} elements, expected rows = {rows}");
    }
}
