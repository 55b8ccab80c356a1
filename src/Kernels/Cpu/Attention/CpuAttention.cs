using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FsrNative.Kernels.Cpu;

/// <summary>
/// Scaled-dot-product attention on the CPU, blocked over queries so the N×N score matrix of a head never exists:
/// per (batch, head) and block of up to 60 query rows (fewer when the key count is large, so a block of scores stays
/// within ~192 KB of L2):
/// <code>
/// forward:   S = Q_blk·(scale·K)ᵀ (6×16 FMA tiles on scale·Kᵀ packed once per head) → per row: + mask, max,
///            E = exp(s − max), Σ, lse (E · dropout factors) → O_blk = E·V (same tiles, V read in place), row i ·= 1/Σ_i
/// backward:  S = Q_blk·Kᵀ → P = exp(s·scale + mask − lse);  dV += (P∘Z)ᵀ·dO_blk;  dP = dO_blk·Vᵀ (Vᵀ packed per head)
///            dS = P∘(Z∘dP − D)·scale with D_i = dO_i·O_i;   dQ_blk = dS·K;   dK += dSᵀ·Q_blk
/// </code>
/// Blocks of fewer than <see cref="DirectMaxRows"/> queries (cross-attention with one query token) take plain dot
/// products instead of packing Kᵀ and Vᵀ. Work is split over cores by (head, query block) in the forward and by head in
/// the backward (a head's dK and dV are accumulated by one thread, in block order), so results do not depend on the
/// core count. Shapes, mask and dropout conventions: <see cref="AttentionGeometry"/>; the reference definition:
/// <see cref="Reference.ReferenceAttention{T}"/>. All pointers are the storages' element 0 (the geometry's offsets
/// apply); o, lse, dO, dq, dk, dv are contiguous.
/// </summary>
public static unsafe class CpuAttention
{
    /// <summary>Query blocks shorter than this use dot products (no packing of Kᵀ/Vᵀ).</summary>
    public const int DirectMaxRows = 6;

    /// <summary>Rows per query block: a multiple of the 6-row tile, at most 60, and ≤ 192 KB of scores per block.</summary>
    public static int BlockRows(int nk, int blockBytes)
    {
        long rowBytes = 4L * Pad(nk);
        int rows = (int)Math.Clamp(blockBytes / Math.Max(rowBytes, 1), 6, 60);
        return rows / 6 * 6;
    }

    /// <summary>Bytes of scores per query block (the backward keeps two such blocks, P and dP: measured on the 2-core
    /// dev machine at (1, 12, 784, 64), 96, 192 and 384 KB gave the same time within noise).</summary>
    const int ForwardBlockBytes = 192 * 1024, BackwardBlockBytes = 192 * 1024;

    static int Pad(int n) => (n + 15) & ~15;

    /// <summary>Per-thread scratch (pinned, grown on demand, kept for the thread's lifetime).</summary>
    static class Scratch
    {
        [ThreadStatic] static float[]? buffer;

        public static float* Get(long floats)
        {
            if (buffer is null || buffer.Length < floats)
                buffer = GC.AllocateUninitializedArray<float>((int)Math.Max(floats, 1024), pinned: true);
            return (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        }
    }

    // ------------------------------------------------------------------ forward

    public static void Forward(float* q, float* k, float* v, float* mask, AttentionGeometry g, float* o, float* lse)
    {
        int heads = g.B * g.H;
        if (heads == 0 || g.Nq == 0) return;
        int bq = BlockRows(g.Nk, ForwardBlockBytes), ld = Pad(g.Nk);
        int blocks = (g.Nq + bq - 1) / bq;
        long work = (long)Math.Min(bq, g.Nq) * Math.Max(g.Nk, 1) * (g.D + g.Dv + 8);
        CpuParallel.For((long)heads * blocks, work, 1, (start, end) =>
        {
            // scores (bq × ld) | Kᵀ (D × ld) | dropout factors (ld) | 1/Σ per row (bq)
            float* s = Scratch.Get((long)bq * ld + (long)g.D * ld + ld + bq);
            float* kt = s + (long)bq * ld, z = kt + (long)g.D * ld, inv = z + ld;
            int packed = -1;
            for (long it = start; it < end; it++)
            {
                int bh = (int)(it / blocks), i0 = (int)(it % blocks) * bq;
                int b = bh / g.H, h = bh % g.H, rows = Math.Min(bq, g.Nq - i0);
                Scores(q, k, g, b, h, i0, rows, s, ld, kt, ref packed);
                for (int r = 0; r < rows; r++)
                {
                    float* sr = s + (long)r * ld;
                    long row = (long)bh * g.Nq + i0 + r;
                    lse[row] = ExpRow(sr, mask, g, b, h, i0 + r, out inv[r]);
                    if (g.Dropout && inv[r] != 0f)
                    {
                        CpuDropout.Factors(z, g.Nk, g.DropIndex(bh, i0 + r, 0), g.Seed, g.Stream, g.KeepProb, g.DropScale);
                        Mul(sr, z, g.Nk);
                    }
                }
                float* ob = o + ((long)bh * g.Nq + i0) * g.Dv;
                AttentionGemm.Multiply(rows, g.Dv, g.Nk, s, ld, 1, v + g.VRow(b, h, 0), g.VStrideRow, ob, g.Dv, false);
                for (int r = 0; r < rows; r++) Scale(ob + (long)r * g.Dv, g.Dv, inv[r]);
            }
        });
    }

    /// <summary>S (rows × Nk, row stride ld) = scale·Q[i0.., :]·Kᵀ of head (b, h). Packs scale·Kᵀ into kt when the block
    /// is long enough and the head is not already packed (<paramref name="packed"/> = b·H + h of the packed head).</summary>
    static void Scores(float* q, float* k, in AttentionGeometry g, int b, int h, int i0, int rows, float* s, int ld, float* kt, ref int packed)
    {
        float* qb = q + g.QRow(b, h, i0), kb = k + g.KRow(b, h, 0);
        if (rows < DirectMaxRows)
        {
            AttentionGemm.DotRows(rows, g.Nk, g.D, qb, g.QStrideRow, kb, g.KStrideRow, s, ld, g.Scale);
            return;
        }
        int bh = b * g.H + h;
        if (packed != bh)
        {
            AttentionGemm.PackTransposed(kb, g.KStrideRow, g.Nk, g.D, kt, ld, g.Scale);
            packed = bh;
        }
        AttentionGemm.Multiply(rows, g.Nk, g.D, qb, g.QStrideRow, 1, kt, ld, s, ld, false);
    }

    /// <summary>Adds the mask row of query i to its scores s (length Nk) in place; returns their maximum.</summary>
    static float AddMask(float* s, float* mask, in AttentionGeometry g, int b, int h, int i)
    {
        int n = g.Nk;
        float* m = g.HasMask != 0 ? mask + g.MaskRow(b, h, i) : null;
        long mc = g.MaskStrideCol;
        float max = float.NegativeInfinity;
        int j = 0;
        if (CpuVecMath.IsSupported && (m is null || mc == 1 || mc == 0))
        {
            var vmax = Vector256.Create(float.NegativeInfinity);
            var vm = m is not null && mc == 0 ? Vector256.Create(m[0]) : Vector256<float>.Zero;
            for (; j + 8 <= n; j += 8)
            {
                var x = Avx.LoadVector256(s + j);
                if (m is not null)
                {
                    x = Avx.Add(x, mc == 1 ? Avx.LoadVector256(m + j) : vm);
                    Avx.Store(s + j, x);
                }
                vmax = Avx.Max(vmax, x);
            }
            max = CpuVecMath.HorizontalMax(vmax);
        }
        for (; j < n; j++)
        {
            float x = s[j];
            if (m is not null) s[j] = x += m[j * mc];
            if (x > max) max = x;
        }
        return max;
    }

    /// <summary>E = exp(s + mask − max) of one row of scores in place (0 on a fully masked row); returns the row's
    /// log-sum-exp and 1/Σ E in <paramref name="inverseSum"/> (0 on a fully masked row).</summary>
    static float ExpRow(float* s, float* mask, in AttentionGeometry g, int b, int h, int i, out float inverseSum)
    {
        int n = g.Nk;
        float max = AddMask(s, mask, g, b, h, i);
        if (float.IsNegativeInfinity(max))
        {
            new Span<float>(s, n).Clear();
            inverseSum = 0f;
            return float.NegativeInfinity;
        }
        float sum = ExpSum(s, n, max);
        inverseSum = 1f / sum;
        return max + MathF.Log(sum);
    }

    /// <summary>s[j] = exp(s[j] − shift) for j &lt; n; returns Σ (eight lanes, then a fixed horizontal sum).</summary>
    static float ExpSum(float* s, int n, float shift)
    {
        int j = 0;
        float sum = 0f;
        if (CpuVecMath.IsSupported)
        {
            var vshift = Vector256.Create(shift);
            var acc = Vector256<float>.Zero;
            for (; j + 8 <= n; j += 8)
            {
                var e = CpuVecMath.ExpNonPositive(Avx.Subtract(Avx.LoadVector256(s + j), vshift));
                Avx.Store(s + j, e);
                acc = Avx.Add(acc, e);
            }
            sum = CpuVecMath.HorizontalSum(acc);
        }
        for (; j < n; j++)
        {
            float e = MathF.Exp(s[j] - shift);
            s[j] = e;
            sum += e;
        }
        return sum;
    }

    static void Scale(float* s, int n, float f)
        => System.Numerics.Tensors.TensorPrimitives.Multiply(new ReadOnlySpan<float>(s, n), f, new Span<float>(s, n));

    static void Mul(float* s, float* z, int n)
        => System.Numerics.Tensors.TensorPrimitives.Multiply(new ReadOnlySpan<float>(s, n), new ReadOnlySpan<float>(z, n), new Span<float>(s, n));

    /// <summary>P = exp(s + mask − lse) in place (0 on a fully masked row, lse = −∞).</summary>
    static void Recompute(float* s, float* mask, in AttentionGeometry g, int b, int h, int i, float lse)
    {
        if (float.IsNegativeInfinity(lse))
        {
            new Span<float>(s, g.Nk).Clear();
            return;
        }
        AddMask(s, mask, g, b, h, i);
        ExpSum(s, g.Nk, lse);
    }

    // ------------------------------------------------------------------ attention probabilities

    /// <summary>probs (B, H, Nq, Nk) contiguous = exp(s·scale + mask − lse): the softmax before dropout.</summary>
    public static void Probs(float* q, float* k, float* mask, AttentionGeometry g, float* lse, float* probs)
    {
        int heads = g.B * g.H;
        if (heads == 0 || g.Nq == 0 || g.Nk == 0) return;
        int bq = BlockRows(g.Nk, ForwardBlockBytes), ld = Pad(g.Nk);
        int blocks = (g.Nq + bq - 1) / bq;
        CpuParallel.For((long)heads * blocks, (long)Math.Min(bq, g.Nq) * g.Nk * (g.D + 8), 1, (start, end) =>
        {
            float* kt = Scratch.Get((long)g.D * ld);
            int packed = -1;
            for (long it = start; it < end; it++)
            {
                int bh = (int)(it / blocks), i0 = (int)(it % blocks) * bq;
                int b = bh / g.H, h = bh % g.H, rows = Math.Min(bq, g.Nq - i0);
                float* p = probs + ((long)bh * g.Nq + i0) * g.Nk;
                Scores(q, k, g, b, h, i0, rows, p, g.Nk, kt, ref packed);
                for (int r = 0; r < rows; r++)
                    Recompute(p + (long)r * g.Nk, mask, g, b, h, i0 + r, lse[(long)bh * g.Nq + i0 + r]);
            }
        });
    }

    // ------------------------------------------------------------------ backward

    public static void Backward(float* q, float* k, float* v, float* mask, AttentionGeometry g, float* o, float* lse, float* dO,
        float* dq, float* dk, float* dv)
    {
        int heads = g.B * g.H;
        if (heads == 0) return;
        int bq = BlockRows(g.Nk, BackwardBlockBytes), ld = Pad(g.Nk);
        int blocks = (g.Nq + bq - 1) / bq;
        long work = (long)Math.Max(g.Nq, 1) * Math.Max(g.Nk, 1) * (2 * g.D + 3 * g.Dv + 16);
        CpuParallel.For(heads, work, 1, (start, end) =>
        {
            // P (bq × ld) | dP (bq × ld) | Kᵀ (D × ld) | Vᵀ (Dv × ld) | dropout factors (ld) | D (bq)
            long floats = 2L * bq * ld + (long)(g.D + g.Dv) * ld + ld + bq;
            float* p = Scratch.Get(floats);
            float* dp = p + (long)bq * ld, kt = dp + (long)bq * ld, vt = kt + (long)g.D * ld, z = vt + (long)g.Dv * ld, delta = z + ld;
            for (long bhl = start; bhl < end; bhl++)
            {
                int bh = (int)bhl, b = bh / g.H, h = bh % g.H;
                float* dkh = dk + (long)bh * g.Nk * g.D, dvh = dv + (long)bh * g.Nk * g.Dv;
                if (g.Nq == 0)
                {
                    new Span<float>(dkh, g.Nk * g.D).Clear();
                    new Span<float>(dvh, g.Nk * g.Dv).Clear();
                    continue;
                }
                float* kh = k + g.KRow(b, h, 0), vh = v + g.VRow(b, h, 0);
                int packedK = -1;
                bool packedV = false;
                for (int blk = 0; blk < blocks; blk++)
                {
                    int i0 = blk * bq, rows = Math.Min(bq, g.Nq - i0);
                    long row0 = (long)bh * g.Nq + i0;
                    float* qb = q + g.QRow(b, h, i0), dOb = dO + row0 * g.Dv, ob = o + row0 * g.Dv;
                    bool acc = blk > 0;

                    // P = exp(S·scale + mask − lse); D_i = dO_i·O_i
                    Scores(q, k, g, b, h, i0, rows, p, ld, kt, ref packedK);
                    for (int r = 0; r < rows; r++)
                    {
                        Recompute(p + (long)r * ld, mask, g, b, h, i0 + r, lse[row0 + r]);
                        delta[r] = Dot(dOb + (long)r * g.Dv, ob + (long)r * g.Dv, g.Dv);
                    }

                    // dV (+)= (P∘Z)ᵀ·dO_blk   (P∘Z staged in dp when dropping out)
                    float* pz = p;
                    if (g.Dropout)
                    {
                        pz = dp;
                        for (int r = 0; r < rows; r++)
                        {
                            CpuDropout.Factors(z, g.Nk, g.DropIndex(bh, i0 + r, 0), g.Seed, g.Stream, g.KeepProb, g.DropScale);
                            System.Numerics.Tensors.TensorPrimitives.Multiply(new ReadOnlySpan<float>(p + (long)r * ld, g.Nk),
                                new ReadOnlySpan<float>(z, g.Nk), new Span<float>(dp + (long)r * ld, g.Nk));
                        }
                    }
                    AttentionGemm.Multiply(g.Nk, g.Dv, rows, pz, 1, ld, dOb, g.Dv, dvh, g.Dv, acc);

                    // dP = dO_blk·Vᵀ
                    if (rows < DirectMaxRows)
                        AttentionGemm.DotRows(rows, g.Nk, g.Dv, dOb, g.Dv, vh, g.VStrideRow, dp, ld);
                    else
                    {
                        if (!packedV) { AttentionGemm.PackTransposed(vh, g.VStrideRow, g.Nk, g.Dv, vt, ld); packedV = true; }
                        AttentionGemm.Multiply(rows, g.Nk, g.Dv, dOb, g.Dv, 1, vt, ld, dp, ld, false);
                    }

                    // dS = P∘(Z∘dP − D)·scale, in place of P
                    for (int r = 0; r < rows; r++)
                    {
                        float* zr = null;
                        if (g.Dropout)
                        {
                            CpuDropout.Factors(z, g.Nk, g.DropIndex(bh, i0 + r, 0), g.Seed, g.Stream, g.KeepProb, g.DropScale);
                            zr = z;
                        }
                        DsRow(p + (long)r * ld, dp + (long)r * ld, zr, g.Nk, delta[r], g.Scale);
                    }

                    // dQ_blk = dS·K;  dK (+)= dSᵀ·Q_blk
                    AttentionGemm.Multiply(rows, g.D, g.Nk, p, ld, 1, kh, g.KStrideRow, dq + row0 * g.D, g.D, false);
                    AttentionGemm.Multiply(g.Nk, g.D, rows, p, 1, ld, qb, g.QStrideRow, dkh, g.D, acc);
                }
            }
        });
    }

    static float Dot(float* a, float* b, int n)
        => System.Numerics.Tensors.TensorPrimitives.Dot(new ReadOnlySpan<float>(a, n), new ReadOnlySpan<float>(b, n));

    /// <summary>p[j] = p[j]·(z[j]·dp[j] − delta)·scale (z = null: no dropout).</summary>
    static void DsRow(float* p, float* dp, float* z, int n, float delta, float scale)
    {
        int j = 0;
        if (CpuVecMath.IsSupported)
        {
            var vd = Vector256.Create(delta);
            var vs = Vector256.Create(scale);
            for (; j + 8 <= n; j += 8)
            {
                var d = Avx.LoadVector256(dp + j);
                if (z is not null) d = Avx.Multiply(d, Avx.LoadVector256(z + j));
                Avx.Store(p + j, Avx.Multiply(Avx.Multiply(Avx.LoadVector256(p + j), Avx.Subtract(d, vd)), vs));
            }
        }
        for (; j < n; j++)
        {
            float d = z is null ? dp[j] : dp[j] * z[j];
            p[j] = p[j] * (d - delta) * scale;
        }
    }
}
