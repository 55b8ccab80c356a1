using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using FsrNative.Kernels.Cpu.Reference;

namespace FsrNative.Kernels.Cpu;

/// <summary>
/// Fused loss kernels (definitions: <see cref="ReferenceLosses{T}"/>).
/// <para>Cross-entropy, class axis strided (inner &gt; 1, the (B, K, H, W) case): chunks of up to 64 positions (8 vectors)
/// of one image walk down the K classes twice — max, then Σ exp and the target logit picked by a lane compare — so the
/// K·64 logits of a chunk stay in L1 and memory sees one read of the logits; log Σ per lane by the vector log. The
/// backward recomputes exp(x − lse) per logit and writes gx once. Chunks are split over cores. inner = 1 ((B, K) rows):
/// scalar per row (K is the class count: small). The targets are validated first, in one scalar pass.</para>
/// <para>BCE with logits: one Vector256 pass, e^−|x| by the non-positive exp, log1p by Goldberg's correction.</para>
/// </summary>
public static unsafe class CpuLosses
{
    const int Chunk = 64;

    /// <summary>See <see cref="ReferenceLosses{T}.CrossEntropy"/>: −1, or the first invalid target's position.</summary>
    public static int CrossEntropy(ReadOnlySpan<float> x, ReadOnlySpan<int> target, ReadOnlySpan<float> mask, Span<float> loss, Span<float> lse,
        Span<float> valid, int outer, int k, int inner, int ignoreIndex)
    {
        CheckCe(x.Length, target.Length, mask.Length, outer, k, inner);
        if (loss.Length != target.Length || lse.Length != target.Length || valid.Length != target.Length)
            throw new ArgumentException($"CpuLosses.CrossEntropy: outputs of {loss.Length}, {lse.Length}, {valid.Length} elements, expected {target.Length}");
        if (!CpuVecMath.IsSupported || inner == 1 || k == 0)
            return ReferenceLosses<float>.CrossEntropy(x, target, mask, loss, lse, valid, outer, k, inner, ignoreIndex);
        int bad = ReferenceLosses<float>.FirstInvalidTarget(target, k, ignoreIndex);
        if (bad >= 0) return bad;
        bool hasMask = !mask.IsEmpty;
        fixed (float* px0 = x, pm0 = mask, pl0 = loss, plse0 = lse, pv0 = valid)
        fixed (int* pt0 = target)
        {
            float* px = px0, pm = pm0, pl = pl0, plse = plse0, pv = pv0;
            int* pt = pt0;
            int chunks = (inner + Chunk - 1) / Chunk;
            CpuParallel.For((long)outer * chunks, 30L * k * Chunk, 1, (s, e) =>
            {
                for (long c = s; c < e; c++)
                {
                    int o = (int)(c / chunks), i0 = (int)(c % chunks) * Chunk;
                    int w = Math.Min(Chunk, inner - i0);
                    long p = (long)o * inner + i0;
                    CeForwardChunk(px + (long)o * k * inner + i0, inner, k, w, pt + p, hasMask ? pm + p : null,
                        pl + p, plse + p, pv + p, ignoreIndex);
                }
            });
        }
        return -1;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void CeForwardChunk(float* x, int stride, int k, int w, int* target, float* mask, float* loss, float* lse, float* valid, int ignore)
    {
        int nv = (w + 7) / 8;
        var lastMask = CpuVecMath.TailMask(w - 8 * (nv - 1));
        var max = stackalloc Vector256<float>[nv];
        var sum = stackalloc Vector256<float>[nv];
        var picked = stackalloc Vector256<float>[nv];
        var tv = stackalloc Vector256<int>[nv];
        for (int v = 0; v < nv; v++)
        {
            max[v] = Vector256.Create(float.NegativeInfinity);
            sum[v] = default;
            picked[v] = default;
            tv[v] = Load(target + 8 * v, v == nv - 1, lastMask);
        }
        for (int c = 0; c < k; c++)
        {
            float* row = x + (long)c * stride;
            for (int v = 0; v < nv; v++) max[v] = Avx.Max(max[v], Load(row + 8 * v, v == nv - 1, lastMask));
        }
        for (int c = 0; c < k; c++)
        {
            float* row = x + (long)c * stride;
            var cv = Vector256.Create(c);
            for (int v = 0; v < nv; v++)
            {
                var xv = Load(row + 8 * v, v == nv - 1, lastMask);
                sum[v] = Avx.Add(sum[v], CpuVecMath.ExpNonPositive(Avx.Subtract(xv, max[v])));
                picked[v] = Avx.BlendVariable(picked[v], xv, Avx2.CompareEqual(tv[v], cv).AsSingle());
            }
        }
        var ign = Vector256.Create(ignore);
        var one = Vector256.Create(1f);
        for (int v = 0; v < nv; v++)
        {
            bool last = v == nv - 1;
            var l = Avx.Add(max[v], CpuVecMath.Log(sum[v]));
            var ok = Avx.AndNot(Avx2.CompareEqual(tv[v], ign).AsSingle(), Vector256.Create(-1).AsSingle());
            if (mask != null) ok = Avx.AndNot(Avx.CompareEqual(Load(mask + 8 * v, last, lastMask), Vector256<float>.Zero), ok);
            Store(lse + 8 * v, l, last, lastMask);
            Store(valid + 8 * v, Avx.And(ok, one), last, lastMask);
            Store(loss + 8 * v, Avx.And(ok, Avx.Subtract(l, picked[v])), last, lastMask);
        }
    }

    /// <summary>See <see cref="ReferenceLosses{T}.CrossEntropyBackward"/>.</summary>
    public static void CrossEntropyBackward(ReadOnlySpan<float> x, ReadOnlySpan<int> target, ReadOnlySpan<float> mask, ReadOnlySpan<float> lse,
        ReadOnlySpan<float> g, Span<float> gx, int outer, int k, int inner, int ignoreIndex)
    {
        CheckCe(x.Length, target.Length, mask.Length, outer, k, inner);
        if (gx.Length != x.Length || lse.Length != target.Length || (g.Length != 1 && g.Length != target.Length))
            throw new ArgumentException($"CpuLosses.CrossEntropyBackward: gx {gx.Length}, lse {lse.Length}, g {g.Length} elements for logits {x.Length}, positions {target.Length}");
        if (!CpuVecMath.IsSupported || inner == 1 || k == 0)
        {
            ReferenceLosses<float>.CrossEntropyBackward(x, target, mask, lse, g, gx, outer, k, inner, ignoreIndex);
            return;
        }
        bool hasMask = !mask.IsEmpty, scalarG = g.Length == 1;
        fixed (float* px0 = x, pm0 = mask, plse0 = lse, pg0 = g, pgx0 = gx)
        fixed (int* pt0 = target)
        {
            float* px = px0, pm = pm0, plse = plse0, pg = pg0, pgx = pgx0;
            int* pt = pt0;
            int chunks = (inner + Chunk - 1) / Chunk;
            CpuParallel.For((long)outer * chunks, 20L * k * Chunk, 1, (s, e) =>
            {
                for (long c = s; c < e; c++)
                {
                    int o = (int)(c / chunks), i0 = (int)(c % chunks) * Chunk;
                    int w = Math.Min(Chunk, inner - i0);
                    long p = (long)o * inner + i0;
                    long off = (long)o * k * inner + i0;
                    CeBackwardChunk(px + off, pgx + off, inner, k, w, pt + p, hasMask ? pm + p : null, plse + p,
                        scalarG ? pg : pg + p, scalarG, ignoreIndex);
                }
            });
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void CeBackwardChunk(float* x, float* gx, int stride, int k, int w, int* target, float* mask, float* lse, float* g, bool scalarG, int ignore)
    {
        int nv = (w + 7) / 8;
        var lastMask = CpuVecMath.TailMask(w - 8 * (nv - 1));
        var tv = stackalloc Vector256<int>[nv];
        var lv = stackalloc Vector256<float>[nv];
        var coef = stackalloc Vector256<float>[nv];
        var ign = Vector256.Create(ignore);
        for (int v = 0; v < nv; v++)
        {
            bool last = v == nv - 1;
            tv[v] = Load(target + 8 * v, last, lastMask);
            lv[v] = Load(lse + 8 * v, last, lastMask);
            var ok = Avx.AndNot(Avx2.CompareEqual(tv[v], ign).AsSingle(), Vector256.Create(-1).AsSingle());
            if (mask != null) ok = Avx.AndNot(Avx.CompareEqual(Load(mask + 8 * v, last, lastMask), Vector256<float>.Zero), ok);
            var gv = scalarG ? Vector256.Create(*g) : Load(g + 8 * v, last, lastMask);
            coef[v] = Avx.And(ok, gv);
            lv[v] = Avx.BlendVariable(Vector256.Create(float.PositiveInfinity), lv[v], ok);   // invalid: exp(x − ∞) = 0
        }
        var one = Vector256.Create(1f);
        for (int c = 0; c < k; c++)
        {
            float* row = x + (long)c * stride, grow = gx + (long)c * stride;
            var cv = Vector256.Create(c);
            for (int v = 0; v < nv; v++)
            {
                bool last = v == nv - 1;
                var p = CpuVecMath.Exp(Avx.Subtract(Load(row + 8 * v, last, lastMask), lv[v]));
                var hot = Avx.And(Avx2.CompareEqual(tv[v], cv).AsSingle(), one);
                Store(grow + 8 * v, Avx.Multiply(coef[v], Avx.Subtract(p, hot)), last, lastMask);
            }
        }
    }

    // ------------------------------------------------------------------ BCE with logits

    public static void BceWithLogits(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> loss)
    {
        if (y.Length != x.Length || loss.Length != x.Length)
            throw new ArgumentException($"CpuLosses.BceWithLogits: lengths {x.Length}, {y.Length}, {loss.Length} differ");
        if (!CpuVecMath.IsSupported) { ReferenceLosses<float>.BceWithLogits(x, y, loss); return; }
        fixed (float* px0 = x, py0 = y, pl0 = loss)
        {
            float* px = px0, py = py0, pl = pl0;
            int n = x.Length;
            CpuParallel.For((n + 7) / 8, 200, 64, (s, e) =>
            {
                int end = (int)Math.Min(n, e * 8);
                for (int i = (int)s * 8; i < end; i += 8)
                {
                    int r = Math.Min(8, end - i);
                    var xv = r == 8 ? Avx.LoadVector256(px + i) : CpuVecMath.LoadTail(px + i, r);
                    var yv = r == 8 ? Avx.LoadVector256(py + i) : CpuVecMath.LoadTail(py + i, r);
                    var u = CpuVecMath.ExpNonPositive(Avx.Or(xv, Vector256.Create(-0f)));   // e^−|x|
                    var l = Avx.Add(Avx.Subtract(Avx.Max(xv, Vector256<float>.Zero), Avx.Multiply(xv, yv)), Log1p(u));
                    if (r == 8) Avx.Store(pl + i, l); else CpuVecMath.StoreTail(pl + i, l, r);
                }
            });
        }
    }

    public static void BceWithLogitsBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> g, Span<float> gx)
    {
        if (y.Length != x.Length || g.Length != x.Length || gx.Length != x.Length)
            throw new ArgumentException($"CpuLosses.BceWithLogitsBackward: lengths {x.Length}, {y.Length}, {g.Length}, {gx.Length} differ");
        if (!CpuVecMath.IsSupported) { ReferenceLosses<float>.BceWithLogitsBackward(x, y, g, gx); return; }
        fixed (float* px0 = x, py0 = y, pg0 = g, pgx0 = gx)
        {
            float* px = px0, py = py0, pg = pg0, pgx = pgx0;
            int n = x.Length;
            CpuParallel.For((n + 7) / 8, 100, 64, (s, e) =>
            {
                int end = (int)Math.Min(n, e * 8);
                var one = Vector256.Create(1f);
                for (int i = (int)s * 8; i < end; i += 8)
                {
                    int r = Math.Min(8, end - i);
                    var xv = r == 8 ? Avx.LoadVector256(px + i) : CpuVecMath.LoadTail(px + i, r);
                    var yv = r == 8 ? Avx.LoadVector256(py + i) : CpuVecMath.LoadTail(py + i, r);
                    var gv = r == 8 ? Avx.LoadVector256(pg + i) : CpuVecMath.LoadTail(pg + i, r);
                    var u = CpuVecMath.ExpNonPositive(Avx.Or(xv, Vector256.Create(-0f)));
                    var num = Avx.BlendVariable(u, one, Avx.CompareGreaterThanOrEqual(xv, Vector256<float>.Zero));
                    var sigmoid = Avx.Divide(num, Avx.Add(one, u));
                    var v = Avx.Multiply(gv, Avx.Subtract(sigmoid, yv));
                    if (r == 8) Avx.Store(pgx + i, v); else CpuVecMath.StoreTail(pgx + i, v, r);
                }
            });
        }
    }

    /// <summary>log(1 + u) for u in [0, 1] per lane (Goldberg's correction, as <see cref="ReferenceLosses{T}.Log1p"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Log1p(Vector256<float> u)
    {
        var one = Vector256.Create(1f);
        var w = Avx.Add(one, u);
        var d = Avx.Subtract(w, one);
        var r = Avx.Divide(Avx.Multiply(CpuVecMath.Log(w), u), d);
        return Avx.BlendVariable(r, u, Avx.CompareEqual(d, Vector256<float>.Zero));
    }

    // ------------------------------------------------------------------ helpers

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Load(float* p, bool last, Vector256<float> mask) => last ? Avx.MaskLoad(p, mask) : Avx.LoadVector256(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<int> Load(int* p, bool last, Vector256<float> mask)
        => last ? Avx.MaskLoad((float*)p, mask).AsInt32() : Avx.LoadVector256(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(float* p, Vector256<float> v, bool last, Vector256<float> mask)
    {
        if (last) Avx.MaskStore(p, mask, v);
        else Avx.Store(p, v);
    }

    static void CheckCe(int xLen, int tLen, int mLen, int outer, int k, int inner)
    {
        if (outer < 0 || k < 0 || inner < 0) throw new ArgumentException($"CpuLosses.CrossEntropy: negative shape ({outer}, {k}, {inner})");
        if ((long)outer * k * inner != xLen) throw new ArgumentException($"CpuLosses.CrossEntropy: logits have {xLen} elements, expected {outer}·{k}·{inner}");
        if ((long)outer * inner != tLen) throw new ArgumentException($"CpuLosses.CrossEntropy: target has {tLen} elements, expected {outer}·{inner}");
        if (mLen != 0 && mLen != tLen) throw new ArgumentException($"CpuLosses.CrossEntropy: mask has {mLen} elements, expected {tLen}");
    }
}
