using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FsrNative.Kernels.Cpu;

/// <summary>
/// layer_norm over the last axis of a contiguous (rows, c) block, its backward, and the fused residual variant
/// used by transformer blocks (sum = x + residual, then layer_norm of the sum).
/// <para>Forward per row: one pass for the shifted moments Σd, Σd² (d = x − x₀, 32 lanes), giving the mean and the
/// biased variance (Σd² − (Σd)²/c)/c; the shift by the row's first element keeps |μ| ≫ σ rows accurate, and when
/// x₀ lies ≥ 3σ from the mean (the subtraction would cancel more than 3 bits) a second pass recomputes
/// Σ(x−μ)² − (Σ(x−μ))²/c about the mean. Then rstd = 1/√(var + eps) and y = ((x − μ)·rstd)·γ + β (one FMA).
/// The row is in L1 after the first pass: memory sees x once and y once.
/// mean and rstd (length rows) are written for the backward; either may be empty when not needed.</para>
/// <para>Backward: gx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = gy·γ, x̂ = (x − μ)·rstd; γ/β gradients
/// Σ_rows gy·x̂ and Σ_rows gy are accumulated per fixed block of rows (the blocks depend on the shape only) and
/// the block partials are added in block order, so results are deterministic and independent of the core count.</para>
/// </summary>
public static unsafe class CpuLayerNorm
{
    /// <summary>Number of row blocks for the γ/β gradient partials (fewer when rows are fewer).</summary>
    const int GradBlocks = 32;

    // ------------------------------------------------------------------ reference (scalar, double accumulators)

    /// <summary>Scalar reference of <see cref="Forward"/>.</summary>
    public static void ForwardReference(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y,
        Span<float> mean, Span<float> rstd, int rows, int c, float eps)
    {
        Check(x.Length, y.Length, gamma.Length, beta.Length, mean.Length, rstd.Length, rows, c);
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * c, c);
            double s = 0;
            for (int j = 0; j < c; j++) s += row[j];
            double m = s / c, v = 0;
            for (int j = 0; j < c; j++) { double d = row[j] - m; v += d * d; }
            v /= c;
            float rs = (float)(1.0 / Math.Sqrt(v + eps));
            for (int j = 0; j < c; j++)
            {
                float t = (float)((row[j] - m) * rs);
                y[r * c + j] = (gamma.IsEmpty ? t : t * gamma[j]) + (beta.IsEmpty ? 0f : beta[j]);
            }
            if (!mean.IsEmpty) mean[r] = (float)m;
            if (!rstd.IsEmpty) rstd[r] = rs;
        }
    }

    /// <summary>Scalar reference of <see cref="Backward"/>.</summary>
    public static void BackwardReference(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd,
        ReadOnlySpan<float> gy, Span<float> gx, Span<float> gGamma, Span<float> gBeta, int rows, int c)
    {
        CheckBackward(x.Length, gamma.Length, mean.Length, rstd.Length, gy.Length, gx.Length, gGamma.Length, gBeta.Length, rows, c);
        var gg = new double[c];
        var gb = new double[c];
        for (int r = 0; r < rows; r++)
        {
            double sg = 0, sgx = 0;
            for (int j = 0; j < c; j++)
            {
                int k = r * c + j;
                double xh = (x[k] - mean[r]) * (double)rstd[r];
                double g = gy[k] * (gamma.IsEmpty ? 1.0 : gamma[j]);
                sg += g; sgx += g * xh;
                gg[j] += gy[k] * xh; gb[j] += gy[k];
            }
            for (int j = 0; j < c; j++)
            {
                int k = r * c + j;
                double xh = (x[k] - mean[r]) * (double)rstd[r];
                double g = gy[k] * (gamma.IsEmpty ? 1.0 : gamma[j]);
                gx[k] = (float)(rstd[r] * (g - sg / c - xh * sgx / c));
            }
        }
        for (int j = 0; j < c; j++)
        {
            if (!gGamma.IsEmpty) gGamma[j] = (float)gg[j];
            if (!gBeta.IsEmpty) gBeta[j] = (float)gb[j];
        }
    }

    // ------------------------------------------------------------------ public fast API

    /// <summary>y = layer_norm(x) over the last axis; gamma/beta empty for no affine (beta alone may be empty too).
    /// Biased variance, as torch. x and y may be the same memory.</summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y,
        Span<float> mean, Span<float> rstd, int rows, int c, float eps)
    {
        Check(x.Length, y.Length, gamma.Length, beta.Length, mean.Length, rstd.Length, rows, c);
        if (rows == 0 || c == 0) return;
        if (!CpuVecMath.IsSupported) { ForwardReference(x, gamma, beta, y, mean, rstd, rows, c, eps); return; }
        fixed (float* px0 = x, pg0 = gamma, pb0 = beta, py0 = y, pm0 = mean, pr0 = rstd)
        {
            float* px = px0, pg = pg0, pb = pb0, py = py0, pm = pm0, pr = pr0;
            bool nt = 4L * y.Length >= CpuKernelSettings.StreamingStoreMinBytes;
            CpuParallel.For(rows, 3L * c, 1, (s, e) =>
            {
                for (long r = s; r < e; r++)
                    NormalizeRow(px + r * c, null, null, pg, pb, py + r * c, pm == null ? null : pm + r, pr == null ? null : pr + r, c, eps, nt);
            });
        }
    }

    /// <summary>Fused residual add + layer_norm: sumOut = x + residual, y = layer_norm(sumOut). sumOut may be the
    /// same memory as x or residual; y may be the same memory as neither (it is written after sumOut is read).</summary>
    public static void ForwardResidual(ReadOnlySpan<float> x, ReadOnlySpan<float> residual, Span<float> sumOut,
        ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y, Span<float> mean, Span<float> rstd, int rows, int c, float eps)
    {
        Check(x.Length, y.Length, gamma.Length, beta.Length, mean.Length, rstd.Length, rows, c);
        if (residual.Length != x.Length) throw new ArgumentException($"CpuLayerNorm: residual has length {residual.Length}, expected {x.Length}.", nameof(residual));
        if (sumOut.Length != x.Length) throw new ArgumentException($"CpuLayerNorm: sumOut has length {sumOut.Length}, expected {x.Length}.", nameof(sumOut));
        if (rows == 0 || c == 0) return;
        if (!CpuVecMath.IsSupported)
        {
            for (int i = 0; i < x.Length; i++) sumOut[i] = x[i] + residual[i];
            ForwardReference(sumOut, gamma, beta, y, mean, rstd, rows, c, eps);
            return;
        }
        fixed (float* px0 = x, pres0 = residual, psum0 = sumOut, pg0 = gamma, pb0 = beta, py0 = y, pm0 = mean, pr0 = rstd)
        {
            float* px = px0, pres = pres0, psum = psum0, pg = pg0, pb = pb0, py = py0, pm = pm0, pr = pr0;
            // sumOut is re-read by the row's later passes, so it takes normal stores; y may stream.
            bool nt = 4L * y.Length >= CpuKernelSettings.StreamingStoreMinBytes;
            CpuParallel.For(rows, 4L * c, 1, (s, e) =>
            {
                for (long r = s; r < e; r++)
                    NormalizeRow(px + r * c, pres + r * c, psum + r * c, pg, pb, py + r * c,
                        pm == null ? null : pm + r, pr == null ? null : pr + r, c, eps, nt);
            });
        }
    }

    /// <summary>Backward of <see cref="Forward"/> from the saved mean/rstd: gx is overwritten; gGamma and gBeta
    /// (length c) are overwritten with Σ_rows gy·x̂ and Σ_rows gy, or skipped when empty. gamma empty = no affine.</summary>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd,
        ReadOnlySpan<float> gy, Span<float> gx, Span<float> gGamma, Span<float> gBeta, int rows, int c)
    {
        CheckBackward(x.Length, gamma.Length, mean.Length, rstd.Length, gy.Length, gx.Length, gGamma.Length, gBeta.Length, rows, c);
        if (c == 0) return;
        if (rows == 0) { gGamma.Clear(); gBeta.Clear(); return; }
        if (!CpuVecMath.IsSupported) { BackwardReference(x, gamma, mean, rstd, gy, gx, gGamma, gBeta, rows, c); return; }
        bool wantG = !gGamma.IsEmpty, wantB = !gBeta.IsEmpty;
        int blocks = Math.Min(rows, GradBlocks);
        int per = (rows + blocks - 1) / blocks;
        blocks = (rows + per - 1) / per;
        float[]? partG = wantG ? ArrayPool<float>.Shared.Rent(blocks * c) : null;
        float[]? partB = wantB ? ArrayPool<float>.Shared.Rent(blocks * c) : null;
        try
        {
            fixed (float* px0 = x, pgam0 = gamma, pm0 = mean, pr0 = rstd, pgy0 = gy, pgx0 = gx, ppg0 = partG, ppb0 = partB)
            {
                float* px = px0, pgam = pgam0, pm = pm0, pr = pr0, pgy = pgy0, pgx = pgx0, ppg = ppg0, ppb = ppb0;
                CpuParallel.For(blocks, 5L * c * per, 1, (s, e) =>
                {
                    for (long blk = s; blk < e; blk++)
                    {
                        float* accG = ppg == null ? null : ppg + blk * c;
                        float* accB = ppb == null ? null : ppb + blk * c;
                        if (accG != null) new Span<float>(accG, c).Clear();
                        if (accB != null) new Span<float>(accB, c).Clear();
                        long r1 = Math.Min(rows, (blk + 1) * per);
                        for (long r = blk * per; r < r1; r++)
                            BackwardRow(px + r * c, pgam, pm[r], pr[r], pgy + r * c, pgx + r * c, accG, accB, c);
                    }
                });
                if (ppg != null) SumBlocks(ppg, blocks, c, gGamma);
                if (ppb != null) SumBlocks(ppb, blocks, c, gBeta);
            }
        }
        finally
        {
            if (partG != null) ArrayPool<float>.Shared.Return(partG);
            if (partB != null) ArrayPool<float>.Shared.Return(partB);
        }
    }

    // ------------------------------------------------------------------ row kernels

    /// <summary>One row: optional residual add (x + res → sum, normalised from sum), statistics, normalisation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void NormalizeRow(float* x, float* res, float* sumOut, float* gamma, float* beta, float* y, float* meanOut, float* rstdOut, int c, float eps, bool nt)
    {
        // Pass 1: shifted moments Σd and Σd², d = x − K with K = the row's first element (and sum = x + res
        // written out first in the fused variant). One pass gives mean and variance; the shift keeps E[d²] − E[d]²
        // from cancelling unless K lies ≥ 3σ from the mean, and then pass 2 recomputes Σ(x − μ)² exactly.
        float k0 = res == null ? x[0] : x[0] + res[0];
        var kv = Vector256.Create(k0);
        var s0 = Vector256<float>.Zero; var s1 = s0; var s2 = s0; var s3 = s0;
        var q0 = s0; var q1 = s0; var q2 = s0; var q3 = s0;
        int i = 0;
        if (res == null)
        {
            for (; i <= c - 32; i += 32)
            {
                var d0 = Avx.Subtract(Avx.LoadVector256(x + i), kv); var d1 = Avx.Subtract(Avx.LoadVector256(x + i + 8), kv);
                var d2 = Avx.Subtract(Avx.LoadVector256(x + i + 16), kv); var d3 = Avx.Subtract(Avx.LoadVector256(x + i + 24), kv);
                s0 = Avx.Add(s0, d0); s1 = Avx.Add(s1, d1); s2 = Avx.Add(s2, d2); s3 = Avx.Add(s3, d3);
                q0 = Fma.MultiplyAdd(d0, d0, q0); q1 = Fma.MultiplyAdd(d1, d1, q1);
                q2 = Fma.MultiplyAdd(d2, d2, q2); q3 = Fma.MultiplyAdd(d3, d3, q3);
            }
            for (; i <= c - 8; i += 8)
            {
                var d = Avx.Subtract(Avx.LoadVector256(x + i), kv);
                s0 = Avx.Add(s0, d); q0 = Fma.MultiplyAdd(d, d, q0);
            }
            if (i < c)
            {
                var d = Avx.And(CpuVecMath.TailMask(c - i), Avx.Subtract(CpuVecMath.LoadTail(x + i, c - i), kv));
                s1 = Avx.Add(s1, d); q1 = Fma.MultiplyAdd(d, d, q1);
            }
        }
        else
        {
            // Same accumulation order as the plain path, so fused and unfused results agree bitwise.
            for (; i <= c - 32; i += 32)
            {
                var a0 = Avx.Add(Avx.LoadVector256(x + i), Avx.LoadVector256(res + i));
                var a1 = Avx.Add(Avx.LoadVector256(x + i + 8), Avx.LoadVector256(res + i + 8));
                var a2 = Avx.Add(Avx.LoadVector256(x + i + 16), Avx.LoadVector256(res + i + 16));
                var a3 = Avx.Add(Avx.LoadVector256(x + i + 24), Avx.LoadVector256(res + i + 24));
                Avx.Store(sumOut + i, a0); Avx.Store(sumOut + i + 8, a1); Avx.Store(sumOut + i + 16, a2); Avx.Store(sumOut + i + 24, a3);
                var d0 = Avx.Subtract(a0, kv); var d1 = Avx.Subtract(a1, kv); var d2 = Avx.Subtract(a2, kv); var d3 = Avx.Subtract(a3, kv);
                s0 = Avx.Add(s0, d0); s1 = Avx.Add(s1, d1); s2 = Avx.Add(s2, d2); s3 = Avx.Add(s3, d3);
                q0 = Fma.MultiplyAdd(d0, d0, q0); q1 = Fma.MultiplyAdd(d1, d1, q1);
                q2 = Fma.MultiplyAdd(d2, d2, q2); q3 = Fma.MultiplyAdd(d3, d3, q3);
            }
            for (; i <= c - 8; i += 8)
            {
                var a = Avx.Add(Avx.LoadVector256(x + i), Avx.LoadVector256(res + i));
                Avx.Store(sumOut + i, a);
                var d = Avx.Subtract(a, kv);
                s0 = Avx.Add(s0, d); q0 = Fma.MultiplyAdd(d, d, q0);
            }
            if (i < c)
            {
                var a = Avx.Add(CpuVecMath.LoadTail(x + i, c - i), CpuVecMath.LoadTail(res + i, c - i));
                CpuVecMath.StoreTail(sumOut + i, a, c - i);
                var d = Avx.And(CpuVecMath.TailMask(c - i), Avx.Subtract(a, kv));
                s1 = Avx.Add(s1, d); q1 = Fma.MultiplyAdd(d, d, q1);
            }
            x = sumOut;
        }
        float sd = CpuVecMath.HorizontalSum(Avx.Add(Avx.Add(s0, s1), Avx.Add(s2, s3)));
        float sq = CpuVecMath.HorizontalSum(Avx.Add(Avx.Add(q0, q1), Avx.Add(q2, q3)));
        float shift = sd / c;
        float mean = k0 + shift;
        float m2 = sq - sd * shift;
        if (!(sd * shift <= 0.9f * sq))
        {
            // Pass 2 (rare, or NaN/∞ rows): Σ (x − μ)² and Σ (x − μ) about the computed mean.
            var mu = Vector256.Create(mean);
            var e0 = Vector256<float>.Zero; var e1 = e0; var f0 = e0; var f1 = e0;
            i = 0;
            for (; i <= c - 16; i += 16)
            {
                var a = Avx.Subtract(Avx.LoadVector256(x + i), mu);
                var b = Avx.Subtract(Avx.LoadVector256(x + i + 8), mu);
                e0 = Fma.MultiplyAdd(a, a, e0); e1 = Fma.MultiplyAdd(b, b, e1);
                f0 = Avx.Add(f0, a); f1 = Avx.Add(f1, b);
            }
            for (; i < c; i += 8)
            {
                int r = Math.Min(8, c - i);
                var a = Avx.And(CpuVecMath.TailMask(r), Avx.Subtract(CpuVecMath.LoadTail(x + i, r), mu));
                e0 = Fma.MultiplyAdd(a, a, e0);
                f0 = Avx.Add(f0, a);
            }
            float dsum = CpuVecMath.HorizontalSum(Avx.Add(f0, f1));
            m2 = CpuVecMath.HorizontalSum(Avx.Add(e0, e1)) - dsum * dsum / c;
        }
        float variance = MathF.Max(0f, m2 / c);
        float rstd = 1f / MathF.Sqrt(variance + eps);
        var m = Vector256.Create(mean);
        if (meanOut != null) *meanOut = mean;
        if (rstdOut != null) *rstdOut = rstd;

        // Pass 3: y = ((x − μ)·rstd)·γ + β; large outputs stream past the cache (no read for ownership of y).
        var rs = Vector256.Create(rstd);
        i = 0;
        if (nt && ((nint)y & 3) == 0 && c >= 64)
        {
            int h = (int)(((32 - ((nint)y & 31)) & 31) >> 2);
            if (h > 0) CpuVecMath.StoreTail(y, Norm(x, gamma, beta, m, rs, 0, h), h);
            for (i = h; i <= c - 8; i += 8) Avx.StoreAlignedNonTemporal(y + i, Norm(x, gamma, beta, m, rs, i, 8));
            Sse.StoreFence();
        }
        for (; i <= c - 8; i += 8) Avx.Store(y + i, Norm(x, gamma, beta, m, rs, i, 8));
        if (i < c) CpuVecMath.StoreTail(y + i, Norm(x, gamma, beta, m, rs, i, c - i), c - i);
    }

    /// <summary>((x − μ)·rstd)·γ + β for lanes [i, i + count), count ≤ 8 (masked loads below 8).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Norm(float* x, float* gamma, float* beta, Vector256<float> m, Vector256<float> rs, int i, int count)
    {
        bool full = count == 8;
        var t = Avx.Multiply(Avx.Subtract(full ? Avx.LoadVector256(x + i) : CpuVecMath.LoadTail(x + i, count), m), rs);
        if (gamma == null && beta == null) return t;
        var b = beta == null ? Vector256<float>.Zero : full ? Avx.LoadVector256(beta + i) : CpuVecMath.LoadTail(beta + i, count);
        if (gamma == null) return Avx.Add(t, b);   // bias without weight, as torch allows
        var g = full ? Avx.LoadVector256(gamma + i) : CpuVecMath.LoadTail(gamma + i, count);
        return Fma.MultiplyAdd(t, g, b);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void BackwardRow(float* x, float* gamma, float mean, float rstd, float* gy, float* gx, float* accG, float* accB, int c)
    {
        var m = Vector256.Create(mean);
        var rs = Vector256.Create(rstd);
        var sg = Vector256<float>.Zero;
        var sgx = Vector256<float>.Zero;
        // Pass 1: Σ g, Σ g·x̂ (g = gy·γ); γ/β partials.
        for (int i = 0; i < c; i += 8)
        {
            int r = Math.Min(8, c - i);
            bool full = r == 8;
            var xv = full ? Avx.LoadVector256(x + i) : CpuVecMath.LoadTail(x + i, r);
            var g0 = full ? Avx.LoadVector256(gy + i) : CpuVecMath.LoadTail(gy + i, r);
            var xh = Avx.Multiply(Avx.Subtract(xv, m), rs);
            if (!full) xh = Avx.And(CpuVecMath.TailMask(r), xh);
            var g = gamma == null ? g0 : Avx.Multiply(g0, full ? Avx.LoadVector256(gamma + i) : CpuVecMath.LoadTail(gamma + i, r));
            sg = Avx.Add(sg, g);
            sgx = Fma.MultiplyAdd(g, xh, sgx);
            if (accG != null)
            {
                var a = full ? Avx.LoadVector256(accG + i) : CpuVecMath.LoadTail(accG + i, r);
                a = Fma.MultiplyAdd(g0, xh, a);
                if (full) Avx.Store(accG + i, a); else CpuVecMath.StoreTail(accG + i, a, r);
            }
            if (accB != null)
            {
                var b = full ? Avx.LoadVector256(accB + i) : CpuVecMath.LoadTail(accB + i, r);
                b = Avx.Add(b, g0);
                if (full) Avx.Store(accB + i, b); else CpuVecMath.StoreTail(accB + i, b, r);
            }
        }
        var invC = 1f / c;
        var meanG = Vector256.Create(CpuVecMath.HorizontalSum(sg) * invC);
        var meanGx = Vector256.Create(CpuVecMath.HorizontalSum(sgx) * invC);
        // Pass 2: gx = rstd·(g − mean(g) − x̂·mean(g·x̂)).
        for (int i = 0; i < c; i += 8)
        {
            int r = Math.Min(8, c - i);
            bool full = r == 8;
            var xv = full ? Avx.LoadVector256(x + i) : CpuVecMath.LoadTail(x + i, r);
            var g0 = full ? Avx.LoadVector256(gy + i) : CpuVecMath.LoadTail(gy + i, r);
            var xh = Avx.Multiply(Avx.Subtract(xv, m), rs);
            var g = gamma == null ? g0 : Avx.Multiply(g0, full ? Avx.LoadVector256(gamma + i) : CpuVecMath.LoadTail(gamma + i, r));
            var v = Avx.Multiply(rs, Fma.MultiplyAddNegated(xh, meanGx, Avx.Subtract(g, meanG)));
            if (full) Avx.Store(gx + i, v); else CpuVecMath.StoreTail(gx + i, v, r);
        }
    }

    /// <summary>dst[j] = Σ_k part[k·c + j], k ascending.</summary>
    static void SumBlocks(float* part, int blocks, int c, Span<float> dst)
    {
        fixed (float* pd = dst)
        {
            int j = 0;
            for (; j <= c - 8; j += 8)
            {
                var a = Avx.LoadVector256(part + j);
                for (int k = 1; k < blocks; k++) a = Avx.Add(a, Avx.LoadVector256(part + (long)k * c + j));
                Avx.Store(pd + j, a);
            }
            for (; j < c; j++)
            {
                float a = part[j];
                for (int k = 1; k < blocks; k++) a += part[(long)k * c + j];
                pd[j] = a;
            }
        }
    }

    // ------------------------------------------------------------------ checks

    static void Check(int xLen, int yLen, int gLen, int bLen, int mLen, int rLen, int rows, int c)
    {
        if (rows < 0 || c < 0) throw new ArgumentException($"CpuLayerNorm: negative shape ({rows}, {c}).");
        if ((long)rows * c != xLen) throw new ArgumentException($"CpuLayerNorm: x has length {xLen}, expected rows·c = {rows}·{c}.", "x");
        if (yLen != xLen) throw new ArgumentException($"CpuLayerNorm: y has length {yLen}, expected {xLen}.", "y");
        if (gLen != 0 && gLen != c) throw new ArgumentException($"CpuLayerNorm: gamma has length {gLen}, expected {c} or 0.", "gamma");
        if (bLen != 0 && bLen != c) throw new ArgumentException($"CpuLayerNorm: beta has length {bLen}, expected {c} or 0.", "beta");
        if (mLen != 0 && mLen != rows) throw new ArgumentException($"CpuLayerNorm: mean has length {mLen}, expected {rows} or 0.", "mean");
        if (rLen != 0 && rLen != rows) throw new ArgumentException($"CpuLayerNorm: rstd has length {rLen}, expected {rows} or 0.", "rstd");
    }

    static void CheckBackward(int xLen, int gLen, int mLen, int rLen, int gyLen, int gxLen, int ggLen, int gbLen, int rows, int c)
    {
        if (rows < 0 || c < 0) throw new ArgumentException($"CpuLayerNorm: negative shape ({rows}, {c}).");
        if ((long)rows * c != xLen) throw new ArgumentException($"CpuLayerNorm.Backward: x has length {xLen}, expected {rows}·{c}.", "x");
        if (gyLen != xLen) throw new ArgumentException($"CpuLayerNorm.Backward: gy has length {gyLen}, expected {xLen}.", "gy");
        if (gxLen != xLen) throw new ArgumentException($"CpuLayerNorm.Backward: gx has length {gxLen}, expected {xLen}.", "gx");
        if (gLen != 0 && gLen != c) throw new ArgumentException($"CpuLayerNorm.Backward: gamma has length {gLen}, expected {c} or 0.", "gamma");
        if (mLen != rows) throw new ArgumentException($"CpuLayerNorm.Backward: mean has length {mLen}, expected {rows}.", "mean");
        if (rLen != rows) throw new ArgumentException($"CpuLayerNorm.Backward: rstd has length {rLen}, expected {rows}.", "rstd");
        if (ggLen != 0 && ggLen != c) throw new ArgumentException($"CpuLayerNorm.Backward: gGamma has length {ggLen}, expected {c} or 0.", "gGamma");
        if (gbLen != 0 && gbLen != c) throw new ArgumentException($"CpuLayerNorm.Backward: gBeta has length {gbLen}, expected {c} or 0.", "gBeta");
    }
}
