// Scaled-dot-product attention (shapes, strides, mask and dropout conventions: AttentionGeometry; the definition:
// Cpu/Reference/ReferenceAttention.cs). o (B,H,Nq,Dv), lse (B·H·Nq), dO, dq, dk, dv and delta (B·H·Nq) are contiguous.
//
// Naive kernels (the emulator's default, any head size): implicitly grouped, grid-stride, one work item per row.
//  * ForwardNaive: one query row per item: max of the scores, Σexp, then o = Σ_j P_ij·z_ij·v_j accumulated in o.
//  * BackwardDelta: delta_i = dO_i·o_i, one row per item (also used by the tiled backward).
//  * BackwardNaiveQ: one query row per item: dq_i = scale·Σ_j dS_ij·k_j.
//  * BackwardNaiveKV: one key row per item: dv_j = Σ_i P_ij·z_ij·dO_i, dk_j = scale·Σ_i dS_ij·q_i.
//  * Probs: one probability per item, exp(s_ij − lse_i).
//
// Tiled kernels (the GPU's, for D, Dv ≤ 128; flash-attention style, no N×N matrix in global memory, no atomics):
// explicitly grouped, 256 threads = 16×16 (tx, ty) per group, 64×64 score tiles, each thread holding the 4×4 scores
// at rows ty+16a and columns tx+16b (a, b < 4). Dot products stream the head dimension through shared memory in
// chunks of 16 (As/Bs: [16][65] floats each, rows padded against bank conflicts); products with the probability tile
// read it from Ps ([64][65]) and stream the other operand's rows through Xs ([16][128]). Shared memory:
// (2·16·65 + 64·65 + 16·128)·4 = 33,152 bytes. Accumulators are named registers (Quad4 values): 4×4 per 64 output
// columns, so the "64" variants (D, Dv ≤ 64) hold half the accumulators of the "128" variants.
//  * ForwardTiled: one group per (b·H + h, block of 64 queries), walking key tiles with an online softmax: row max
//    and Σ over a row's 16 threads by warp shuffles (xor 8, 4, 2, 1: a row's threads are 16 consecutive lanes),
//    o rescaled by exp(m_old − m_new), P·V accumulated; o /= l at the end; lse = m + log l.
//  * BackwardKV: one group per (b·H + h, block of 64 keys), walking query tiles: Sᵀ = K·Qᵀ and dPᵀ = V·dOᵀ, then
//    Pᵀ, dSᵀ from the saved lse and delta; dv += (P∘Z)ᵀ·dO and dk += dSᵀ·Q (probability tile through Ps).
//  * BackwardQ: one group per (b·H + h, block of 64 queries), walking key tiles: S, dP, dS, then dq += dS·K.
//    dK/dV and dQ in separate passes is what keeps the backward free of float atomics (deterministic).
using ILGPU;
using ILGPU.Runtime;

namespace FsrNative.Kernels.Gpu;

/// <summary>A 4×4 block of one thread's registers: rows ty+16a, columns tx+16b of a 64×64 tile.</summary>
public struct Quad4
{
    public float A00, A01, A02, A03, A10, A11, A12, A13, A20, A21, A22, A23, A30, A31, A32, A33;
}

/// <summary>One thread's accumulators of a 64-row output block: columns tx+16b in Lo, tx+64+16b in Hi (wide variants).</summary>
public struct Acc8
{
    public Quad4 Lo, Hi;
}

/// <summary>The two per-element results of the backward: P∘z (for dV) and dS (for dQ, dK).</summary>
public struct ProbGrad
{
    public float Pz, Ds;
}

public static class AttentionKernels
{
    public const int Tile = 64, Chunk = 16, Threads = 256, Padded = Tile + 1, XStride = 128;
    /// <summary>Largest D and Dv of the tiled kernels.</summary>
    public const int MaxTiledDim = 128;

    // ---- shared helpers ---------------------------------------------------------------------------------------

    /// <summary>The scaled, masked score of (query i, key j) from its dot product.</summary>
    static float Logit(float dot, ArrayView<float> mask, AttentionGeometry g, int b, int h, int i, int j)
        => g.HasMask != 0 ? dot * g.Scale + mask[g.MaskRow(b, h, i) + j * g.MaskStrideCol] : dot * g.Scale;

    static float Dot(ArrayView<float> x, int xo, ArrayView<float> y, int yo, int n)
    {
        float s = 0f;
        for (int c = 0; c < n; c++) s += x[xo + c] * y[yo + c];
        return s;
    }

    // ---- naive kernels ----------------------------------------------------------------------------------------

    /// <summary>One query row per work item (n = B·H·Nq): writes o (Dv values) and lse.</summary>
    [GpuKernel]
    public static void ForwardNaive(Index1D index, int n, int step, ArrayView<float> q, ArrayView<float> k, ArrayView<float> v,
        ArrayView<float> mask, ArrayView<float> o, ArrayView<float> lse, AttentionGeometry g)
    {
        for (int row = index; row < n; row += step)
        {
            int i = row % g.Nq, bh = row / g.Nq, b = bh / g.H, h = bh % g.H;
            int qi = g.QRow(b, h, i), orow = row * g.Dv;
            for (int c = 0; c < g.Dv; c++) o[orow + c] = 0f;
            float m = float.NegativeInfinity;
            for (int j = 0; j < g.Nk; j++)
                m = XMax(m, Logit(Dot(q, qi, k, g.KRow(b, h, j), g.D), mask, g, b, h, i, j));
            if (m == float.NegativeInfinity) { lse[row] = float.NegativeInfinity; continue; }
            float l = 0f;
            for (int j = 0; j < g.Nk; j++)
                l += MathF.Exp(Logit(Dot(q, qi, k, g.KRow(b, h, j), g.D), mask, g, b, h, i, j) - m);
            for (int j = 0; j < g.Nk; j++)
            {
                float p = MathF.Exp(Logit(Dot(q, qi, k, g.KRow(b, h, j), g.D), mask, g, b, h, i, j) - m) / l * g.DropFactor(bh, i, j);
                int vj = g.VRow(b, h, j);
                for (int c = 0; c < g.Dv; c++) o[orow + c] += p * v[vj + c];
            }
            lse[row] = m + MathF.Log(l);
        }
    }

    static float XMax(float a, float b) => b > a ? b : a;

    /// <summary>One probability per work item (n = B·H·Nq·Nk): probs = exp(s − lse) (0 where lse = −∞).</summary>
    [GpuKernel]
    public static void Probs(Index1D index, int n, int step, ArrayView<float> q, ArrayView<float> k, ArrayView<float> mask,
        ArrayView<float> lse, ArrayView<float> probs, AttentionGeometry g)
    {
        for (int p = index; p < n; p += step)
        {
            int j = p % g.Nk, row = p / g.Nk;
            int i = row % g.Nq, bh = row / g.Nq, b = bh / g.H, h = bh % g.H;
            float m = lse[row];
            probs[p] = m == float.NegativeInfinity ? 0f
                : MathF.Exp(Logit(Dot(q, g.QRow(b, h, i), k, g.KRow(b, h, j), g.D), mask, g, b, h, i, j) - m);
        }
    }

    /// <summary>delta_i = Σ_c dO_ic·o_ic, one row per work item (n = B·H·Nq rows of length dv).</summary>
    [GpuKernel]
    public static void BackwardDelta(Index1D index, int n, int step, ArrayView<float> o, ArrayView<float> dO, ArrayView<float> delta, int dv)
    {
        for (int row = index; row < n; row += step)
            delta[row] = Dot(o, row * dv, dO, row * dv, dv);
    }

    /// <summary>One query row per work item (n = B·H·Nq): dq_i = scale·Σ_j P_ij·(z_ij·dP_ij − delta_i)·k_j.</summary>
    [GpuKernel]
    public static void BackwardNaiveQ(Index1D index, int n, int step, ArrayView<float> q, ArrayView<float> k, ArrayView<float> v,
        ArrayView<float> mask, ArrayView<float> lse, ArrayView<float> dO, ArrayView<float> delta, ArrayView<float> dq, AttentionGeometry g)
    {
        for (int row = index; row < n; row += step)
        {
            int i = row % g.Nq, bh = row / g.Nq, b = bh / g.H, h = bh % g.H;
            int qi = g.QRow(b, h, i), dqi = row * g.D;
            for (int c = 0; c < g.D; c++) dq[dqi + c] = 0f;
            float m = lse[row];
            if (m == float.NegativeInfinity) continue;
            for (int j = 0; j < g.Nk; j++)
            {
                int kj = g.KRow(b, h, j);
                float p = MathF.Exp(Logit(Dot(q, qi, k, kj, g.D), mask, g, b, h, i, j) - m);
                float dp = Dot(dO, row * g.Dv, v, g.VRow(b, h, j), g.Dv);
                float ds = p * (g.DropFactor(bh, i, j) * dp - delta[row]) * g.Scale;
                for (int c = 0; c < g.D; c++) dq[dqi + c] += ds * k[kj + c];
            }
        }
    }

    /// <summary>One key row per work item (n = B·H·Nk): dv_j = Σ_i P_ij·z_ij·dO_i and dk_j = scale·Σ_i dS_ij·q_i.</summary>
    [GpuKernel]
    public static void BackwardNaiveKV(Index1D index, int n, int step, ArrayView<float> q, ArrayView<float> k, ArrayView<float> v,
        ArrayView<float> mask, ArrayView<float> lse, ArrayView<float> dO, ArrayView<float> delta, ArrayView<float> dk, ArrayView<float> dv,
        AttentionGeometry g)
    {
        for (int keyRow = index; keyRow < n; keyRow += step)
        {
            int j = keyRow % g.Nk, bh = keyRow / g.Nk, b = bh / g.H, h = bh % g.H;
            int kj = g.KRow(b, h, j), vj = g.VRow(b, h, j), dkj = keyRow * g.D, dvj = keyRow * g.Dv;
            for (int c = 0; c < g.D; c++) dk[dkj + c] = 0f;
            for (int c = 0; c < g.Dv; c++) dv[dvj + c] = 0f;
            for (int i = 0; i < g.Nq; i++)
            {
                int row = bh * g.Nq + i;
                float m = lse[row];
                if (m == float.NegativeInfinity) continue;
                int qi = g.QRow(b, h, i);
                float p = MathF.Exp(Logit(Dot(q, qi, k, kj, g.D), mask, g, b, h, i, j) - m);
                float z = g.DropFactor(bh, i, j);
                float dp = Dot(dO, row * g.Dv, v, vj, g.Dv);
                float ds = p * (z * dp - delta[row]) * g.Scale;
                float pz = p * z;
                for (int c = 0; c < g.Dv; c++) dv[dvj + c] += pz * dO[row * g.Dv + c];
                for (int c = 0; c < g.D; c++) dk[dkj + c] += ds * q[qi + c];
            }
        }
    }

    // ---- tiled kernels: register-block helpers ----------------------------------------------------------------

    static Quad4 Outer(Quad4 t, float r0, float r1, float r2, float r3, float c0, float c1, float c2, float c3)
    {
        t.A00 += r0 * c0; t.A01 += r0 * c1; t.A02 += r0 * c2; t.A03 += r0 * c3;
        t.A10 += r1 * c0; t.A11 += r1 * c1; t.A12 += r1 * c2; t.A13 += r1 * c3;
        t.A20 += r2 * c0; t.A21 += r2 * c1; t.A22 += r2 * c2; t.A23 += r2 * c3;
        t.A30 += r3 * c0; t.A31 += r3 * c1; t.A32 += r3 * c2; t.A33 += r3 * c3;
        return t;
    }

    static Quad4 ScaleRows(Quad4 t, float f0, float f1, float f2, float f3)
    {
        t.A00 *= f0; t.A01 *= f0; t.A02 *= f0; t.A03 *= f0;
        t.A10 *= f1; t.A11 *= f1; t.A12 *= f1; t.A13 *= f1;
        t.A20 *= f2; t.A21 *= f2; t.A22 *= f2; t.A23 *= f2;
        t.A30 *= f3; t.A31 *= f3; t.A32 *= f3; t.A33 *= f3;
        return t;
    }

    /// <summary>Writes a register block to a [64][65] shared tile at rows ty+16a, columns tx+16b.</summary>
    static void StoreTile(ArrayView<float> s, Quad4 t, int ty, int tx)
    {
        int r0 = ty * Padded + tx, r1 = r0 + 16 * Padded, r2 = r1 + 16 * Padded, r3 = r2 + 16 * Padded;
        s[r0] = t.A00; s[r0 + 16] = t.A01; s[r0 + 32] = t.A02; s[r0 + 48] = t.A03;
        s[r1] = t.A10; s[r1 + 16] = t.A11; s[r1 + 32] = t.A12; s[r1 + 48] = t.A13;
        s[r2] = t.A20; s[r2 + 16] = t.A21; s[r2 + 32] = t.A22; s[r2 + 48] = t.A23;
        s[r3] = t.A30; s[r3 + 16] = t.A31; s[r3 + 32] = t.A32; s[r3 + 48] = t.A33;
    }

    /// <summary>
    /// t += A·Bᵀ over a head dimension of <paramref name="n"/>, 16 at a time: A's 64 rows start at element aRow0 with
    /// row stride aStride (rows ≥ aRows read as 0), likewise B. Rows ty+16a of A and tx+16b of B end up in t.
    /// Contains group barriers: every thread of the group calls it with the same arguments.
    /// </summary>
    static Quad4 DotTiles(Quad4 t, ArrayView<float> As, ArrayView<float> Bs, ArrayView<float> a, int aRow0, int aStride, int aRows,
        ArrayView<float> bsrc, int bRow0, int bStride, int bRows, int n, int tid, int ty, int tx)
    {
        for (int c0 = 0; c0 < n; c0 += Chunk)
        {
            // 64 rows × 16 columns of each operand: 4 elements per thread, 16 consecutive threads on one row.
            for (int e = tid; e < Tile * Chunk; e += Threads)
            {
                int r = e >> 4, c = e & 15;
                float x = 0f, y = 0f;
                if (r < aRows && c0 + c < n) x = a[aRow0 + r * aStride + c0 + c];
                if (r < bRows && c0 + c < n) y = bsrc[bRow0 + r * bStride + c0 + c];
                As[c * Padded + r] = x;
                Bs[c * Padded + r] = y;
            }
            Group.Barrier();
            for (int kk = 0; kk < Chunk; kk++)
            {
                int ra = kk * Padded + ty, rb = kk * Padded + tx;
                t = Outer(t, As[ra], As[ra + 16], As[ra + 32], As[ra + 48], Bs[rb], Bs[rb + 16], Bs[rb + 32], Bs[rb + 48]);
            }
            Group.Barrier();
        }
        return t;
    }

    /// <summary>
    /// acc += Ps·X over <paramref name="count"/> (≤ 64) rows of X, 16 at a time: X's rows start at element xRow0 with
    /// row stride xStride, <paramref name="cols"/> valid columns (the rest read as 0). Ps is the [64][65] probability
    /// tile (rows ty+16a); columns tx+16b of X go to Lo, tx+64+16b to Hi (when wide). Contains group barriers.
    /// </summary>
    static Acc8 TileTimesRows(Acc8 acc, bool wide, ArrayView<float> Ps, ArrayView<float> Xs,
        ArrayView<float> x, int xRow0, int xStride, int count, int cols, int tid, int ty, int tx)
    {
        int width = wide ? 128 : 64;
        for (int k0 = 0; k0 < count; k0 += Chunk)
        {
            for (int e = tid; e < Chunk * width; e += Threads)
            {
                int r = e / width, c = e - r * width;
                Xs[r * XStride + c] = k0 + r < count && c < cols ? x[xRow0 + (k0 + r) * xStride + c] : 0f;
            }
            Group.Barrier();
            for (int kk = 0; kk < Chunk; kk++)
            {
                int pr = ty * Padded + k0 + kk, xr = kk * XStride + tx;
                float p0 = Ps[pr], p1 = Ps[pr + 16 * Padded], p2 = Ps[pr + 32 * Padded], p3 = Ps[pr + 48 * Padded];
                acc.Lo = Outer(acc.Lo, p0, p1, p2, p3, Xs[xr], Xs[xr + 16], Xs[xr + 32], Xs[xr + 48]);
                if (wide) acc.Hi = Outer(acc.Hi, p0, p1, p2, p3, Xs[xr + 64], Xs[xr + 80], Xs[xr + 96], Xs[xr + 112]);
            }
            Group.Barrier();
        }
        return acc;
    }

    /// <summary>Writes rows ty+16a (&lt; rows) and columns tx+16b (&lt; cols; Hi: +64) of the accumulators, each times its row factor.</summary>
    static void StoreRows(ArrayView<float> dst, int row0, int rows, int cols, Acc8 acc, bool wide, int ty, int tx,
        float f0, float f1, float f2, float f3)
    {
        Quad4 lo = acc.Lo, hi = acc.Hi;
        StoreRow(dst, row0, ty, rows, cols, tx, f0, lo.A00, lo.A01, lo.A02, lo.A03, wide, hi.A00, hi.A01, hi.A02, hi.A03);
        StoreRow(dst, row0, ty + 16, rows, cols, tx, f1, lo.A10, lo.A11, lo.A12, lo.A13, wide, hi.A10, hi.A11, hi.A12, hi.A13);
        StoreRow(dst, row0, ty + 32, rows, cols, tx, f2, lo.A20, lo.A21, lo.A22, lo.A23, wide, hi.A20, hi.A21, hi.A22, hi.A23);
        StoreRow(dst, row0, ty + 48, rows, cols, tx, f3, lo.A30, lo.A31, lo.A32, lo.A33, wide, hi.A30, hi.A31, hi.A32, hi.A33);
    }

    static void StoreRow(ArrayView<float> dst, int row0, int r, int rows, int cols, int tx, float f,
        float a0, float a1, float a2, float a3, bool wide, float b0, float b1, float b2, float b3)
    {
        if (r >= rows) return;
        int o = (row0 + r) * cols;
        if (tx < cols) dst[o + tx] = a0 * f;
        if (tx + 16 < cols) dst[o + tx + 16] = a1 * f;
        if (tx + 32 < cols) dst[o + tx + 32] = a2 * f;
        if (tx + 48 < cols) dst[o + tx + 48] = a3 * f;
        if (!wide) return;
        if (tx + 64 < cols) dst[o + tx + 64] = b0 * f;
        if (tx + 80 < cols) dst[o + tx + 80] = b1 * f;
        if (tx + 96 < cols) dst[o + tx + 96] = b2 * f;
        if (tx + 112 < cols) dst[o + tx + 112] = b3 * f;
    }

    /// <summary>Max over a row's 16 threads (consecutive lanes), every one of them gets it.</summary>
    static float RowMax(float v)
    {
        v = XMax(v, Warp.ShuffleXor(v, 8));
        v = XMax(v, Warp.ShuffleXor(v, 4));
        v = XMax(v, Warp.ShuffleXor(v, 2));
        return XMax(v, Warp.ShuffleXor(v, 1));
    }

    static float RowSum(float v)
    {
        v += Warp.ShuffleXor(v, 8);
        v += Warp.ShuffleXor(v, 4);
        v += Warp.ShuffleXor(v, 2);
        return v + Warp.ShuffleXor(v, 1);
    }

    static float Max4(float a, float b, float c, float d) => XMax(XMax(a, b), XMax(c, d));

    /// <summary>A score of the tile: the logit of (query i, key j), −∞ outside the matrix.</summary>
    static float TileLogit(float dot, ArrayView<float> mask, AttentionGeometry g, int b, int h, int i, int j)
        => i < g.Nq && j < g.Nk ? Logit(dot, mask, g, b, h, i, j) : float.NegativeInfinity;

    /// <summary>exp(s − m) (0 when m = −∞: nothing seen yet on this row).</summary>
    static float ExpShift(float s, float m) => m == float.NegativeInfinity ? 0f : MathF.Exp(s - m);

    // ---- tiled forward ----------------------------------------------------------------------------------------

    /// <summary>Tiled forward for D, Dv ≤ 64. Grid: B·H·⌈Nq/64⌉ groups of <see cref="Threads"/>.</summary>
    [GpuKernel(ExplicitlyGrouped = true)]
    public static void ForwardTiled64(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> mask,
        ArrayView<float> o, ArrayView<float> lse, AttentionGeometry g)
        => ForwardTiled(q, k, v, mask, o, lse, g, false);

    /// <summary>Tiled forward for D, Dv ≤ 128. Grid: B·H·⌈Nq/64⌉ groups of <see cref="Threads"/>.</summary>
    [GpuKernel(ExplicitlyGrouped = true)]
    public static void ForwardTiled128(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> mask,
        ArrayView<float> o, ArrayView<float> lse, AttentionGeometry g)
        => ForwardTiled(q, k, v, mask, o, lse, g, true);

    static void ForwardTiled(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> mask,
        ArrayView<float> o, ArrayView<float> lse, AttentionGeometry g, bool wide)
    {
        var As = SharedMemory.Allocate<float>(Chunk * Padded);
        var Bs = SharedMemory.Allocate<float>(Chunk * Padded);
        var Ps = SharedMemory.Allocate<float>(Tile * Padded);
        var Xs = SharedMemory.Allocate<float>(Chunk * XStride);
        int blocks = (g.Nq + Tile - 1) / Tile;
        int bh = Grid.IdxX / blocks, i0 = Grid.IdxX % blocks * Tile;
        if (bh >= g.B * g.H) return;   // uniform per group
        int b = bh / g.H, h = bh % g.H;
        int tid = Group.IdxX, tx = tid & 15, ty = tid >> 4;
        int r0 = i0 + ty, r1 = r0 + 16, r2 = r0 + 32, r3 = r0 + 48;
        int rows = Math.Min(Tile, g.Nq - i0);

        float m0 = float.NegativeInfinity, m1 = m0, m2 = m0, m3 = m0;
        float l0 = 0f, l1 = 0f, l2 = 0f, l3 = 0f;
        Acc8 acc = default;
        for (int j0 = 0; j0 < g.Nk; j0 += Tile)
        {
            int keys = Math.Min(Tile, g.Nk - j0);
            var s = DotTiles(default, As, Bs, q, g.QRow(b, h, i0), g.QStrideRow, rows, k, g.KRow(b, h, j0), g.KStrideRow, keys,
                g.D, tid, ty, tx);
            int c0 = j0 + tx, c1 = c0 + 16, c2 = c0 + 32, c3 = c0 + 48;
            s.A00 = TileLogit(s.A00, mask, g, b, h, r0, c0); s.A01 = TileLogit(s.A01, mask, g, b, h, r0, c1);
            s.A02 = TileLogit(s.A02, mask, g, b, h, r0, c2); s.A03 = TileLogit(s.A03, mask, g, b, h, r0, c3);
            s.A10 = TileLogit(s.A10, mask, g, b, h, r1, c0); s.A11 = TileLogit(s.A11, mask, g, b, h, r1, c1);
            s.A12 = TileLogit(s.A12, mask, g, b, h, r1, c2); s.A13 = TileLogit(s.A13, mask, g, b, h, r1, c3);
            s.A20 = TileLogit(s.A20, mask, g, b, h, r2, c0); s.A21 = TileLogit(s.A21, mask, g, b, h, r2, c1);
            s.A22 = TileLogit(s.A22, mask, g, b, h, r2, c2); s.A23 = TileLogit(s.A23, mask, g, b, h, r2, c3);
            s.A30 = TileLogit(s.A30, mask, g, b, h, r3, c0); s.A31 = TileLogit(s.A31, mask, g, b, h, r3, c1);
            s.A32 = TileLogit(s.A32, mask, g, b, h, r3, c2); s.A33 = TileLogit(s.A33, mask, g, b, h, r3, c3);

            // Online softmax: new row maxima, rescale factors for what was accumulated so far.
            float n0 = XMax(m0, RowMax(Max4(s.A00, s.A01, s.A02, s.A03)));
            float n1 = XMax(m1, RowMax(Max4(s.A10, s.A11, s.A12, s.A13)));
            float n2 = XMax(m2, RowMax(Max4(s.A20, s.A21, s.A22, s.A23)));
            float n3 = XMax(m3, RowMax(Max4(s.A30, s.A31, s.A32, s.A33)));
            float f0 = ExpShift(m0, n0), f1 = ExpShift(m1, n1), f2 = ExpShift(m2, n2), f3 = ExpShift(m3, n3);
            m0 = n0; m1 = n1; m2 = n2; m3 = n3;
            s.A00 = ExpShift(s.A00, m0); s.A01 = ExpShift(s.A01, m0); s.A02 = ExpShift(s.A02, m0); s.A03 = ExpShift(s.A03, m0);
            s.A10 = ExpShift(s.A10, m1); s.A11 = ExpShift(s.A11, m1); s.A12 = ExpShift(s.A12, m1); s.A13 = ExpShift(s.A13, m1);
            s.A20 = ExpShift(s.A20, m2); s.A21 = ExpShift(s.A21, m2); s.A22 = ExpShift(s.A22, m2); s.A23 = ExpShift(s.A23, m2);
            s.A30 = ExpShift(s.A30, m3); s.A31 = ExpShift(s.A31, m3); s.A32 = ExpShift(s.A32, m3); s.A33 = ExpShift(s.A33, m3);
            l0 = l0 * f0 + RowSum(s.A00 + s.A01 + s.A02 + s.A03);
            l1 = l1 * f1 + RowSum(s.A10 + s.A11 + s.A12 + s.A13);
            l2 = l2 * f2 + RowSum(s.A20 + s.A21 + s.A22 + s.A23);
            l3 = l3 * f3 + RowSum(s.A30 + s.A31 + s.A32 + s.A33);
            acc.Lo = ScaleRows(acc.Lo, f0, f1, f2, f3);
            if (wide) acc.Hi = ScaleRows(acc.Hi, f0, f1, f2, f3);
            if (g.Dropout) s = DropTile(s, g, bh, r0, c0);

            StoreTile(Ps, s, ty, tx);
            Group.Barrier();
            acc = TileTimesRows(acc, wide, Ps, Xs, v, g.VRow(b, h, j0), g.VStrideRow, keys, g.Dv, tid, ty, tx);
        }
        int row0 = bh * g.Nq + i0;
        StoreRows(o, row0, rows, g.Dv, acc, wide, ty, tx, Inverse(l0), Inverse(l1), Inverse(l2), Inverse(l3));
        if (tx == 0)
        {
            if (ty < rows) lse[row0 + ty] = LogSumExp(m0, l0);
            if (ty + 16 < rows) lse[row0 + ty + 16] = LogSumExp(m1, l1);
            if (ty + 32 < rows) lse[row0 + ty + 32] = LogSumExp(m2, l2);
            if (ty + 48 < rows) lse[row0 + ty + 48] = LogSumExp(m3, l3);
        }
    }

    static float Inverse(float l) => l > 0f ? 1f / l : 0f;
    static float LogSumExp(float m, float l) => l > 0f ? m + MathF.Log(l) : float.NegativeInfinity;

    /// <summary>Multiplies each probability of a tile (rows r0+16a = queries, columns c0+16b = keys) by its dropout factor.</summary>
    static Quad4 DropTile(Quad4 s, AttentionGeometry g, int bh, int r0, int c0)
    {
        s.A00 *= Drop(g, bh, r0, c0); s.A01 *= Drop(g, bh, r0, c0 + 16); s.A02 *= Drop(g, bh, r0, c0 + 32); s.A03 *= Drop(g, bh, r0, c0 + 48);
        s.A10 *= Drop(g, bh, r0 + 16, c0); s.A11 *= Drop(g, bh, r0 + 16, c0 + 16); s.A12 *= Drop(g, bh, r0 + 16, c0 + 32); s.A13 *= Drop(g, bh, r0 + 16, c0 + 48);
        s.A20 *= Drop(g, bh, r0 + 32, c0); s.A21 *= Drop(g, bh, r0 + 32, c0 + 16); s.A22 *= Drop(g, bh, r0 + 32, c0 + 32); s.A23 *= Drop(g, bh, r0 + 32, c0 + 48);
        s.A30 *= Drop(g, bh, r0 + 48, c0); s.A31 *= Drop(g, bh, r0 + 48, c0 + 16); s.A32 *= Drop(g, bh, r0 + 48, c0 + 32); s.A33 *= Drop(g, bh, r0 + 48, c0 + 48);
        return s;
    }

    /// <summary>The dropout factor of (query i, key j); 0 outside the matrix.</summary>
    static float Drop(AttentionGeometry g, int bh, int i, int j) => i < g.Nq && j < g.Nk ? g.DropFactor(bh, i, j) : 0f;

    // ---- tiled backward ---------------------------------------------------------------------------------------

    /// <summary>P∘z and dS = P∘(z·dP − delta)·scale of (query i, key j), from its dot product q·k, its dP = dO·v and
    /// the row's saved lse and delta (both 0 outside the matrix and on fully masked rows).</summary>
    static ProbGrad Element(float dot, float dp, ArrayView<float> mask, AttentionGeometry g, int b, int h, int bh, int i, int j,
        float lse, float delta)
    {
        ProbGrad r = default;
        if (i >= g.Nq || j >= g.Nk || lse == float.NegativeInfinity) return r;
        float p = MathF.Exp(Logit(dot, mask, g, b, h, i, j) - lse);
        float z = g.DropFactor(bh, i, j);
        r.Pz = p * z;
        r.Ds = p * (z * dp - delta) * g.Scale;
        return r;
    }

    /// <summary>The saved lse of query i of head bh (−∞ outside the matrix, which zeroes the element).</summary>
    static float LoadLse(ArrayView<float> lse, AttentionGeometry g, int bh, int i) => i < g.Nq ? lse[bh * g.Nq + i] : float.NegativeInfinity;

    static float LoadDelta(ArrayView<float> delta, AttentionGeometry g, int bh, int i) => i < g.Nq ? delta[bh * g.Nq + i] : 0f;

    /// <summary>Tiled dK/dV for D, Dv ≤ 64. Grid: B·H·⌈Nk/64⌉ groups of <see cref="Threads"/>.</summary>
    [GpuKernel(ExplicitlyGrouped = true)]
    public static void BackwardKV64(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> mask,
        ArrayView<float> lse, ArrayView<float> dO, ArrayView<float> delta, ArrayView<float> dk, ArrayView<float> dv, AttentionGeometry g)
        => BackwardKV(q, k, v, mask, lse, dO, delta, dk, dv, g, false);

    /// <summary>Tiled dK/dV for D, Dv ≤ 128. Grid: B·H·⌈Nk/64⌉ groups of <see cref="Threads"/>.</summary>
    [GpuKernel(ExplicitlyGrouped = true)]
    public static void BackwardKV128(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> mask,
        ArrayView<float> lse, ArrayView<float> dO, ArrayView<float> delta, ArrayView<float> dk, ArrayView<float> dv, AttentionGeometry g)
        => BackwardKV(q, k, v, mask, lse, dO, delta, dk, dv, g, true);

    static void BackwardKV(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> mask,
        ArrayView<float> lse, ArrayView<float> dO, ArrayView<float> delta, ArrayView<float> dk, ArrayView<float> dv, AttentionGeometry g, bool wide)
    {
        var As = SharedMemory.Allocate<float>(Chunk * Padded);
        var Bs = SharedMemory.Allocate<float>(Chunk * Padded);
        var Ps = SharedMemory.Allocate<float>(Tile * Padded);
        var Xs = SharedMemory.Allocate<float>(Chunk * XStride);
        int blocks = (g.Nk + Tile - 1) / Tile;
        int bh = Grid.IdxX / blocks, j0 = Grid.IdxX % blocks * Tile;
        if (bh >= g.B * g.H) return;   // uniform per group
        int b = bh / g.H, h = bh % g.H;
        int tid = Group.IdxX, tx = tid & 15, ty = tid >> 4;
        int keys = Math.Min(Tile, g.Nk - j0);
        int k0 = j0 + ty, k1 = k0 + 16, k2 = k0 + 32, k3 = k0 + 48;   // this thread's keys (rows of the transposed tiles)

        Acc8 dvAcc = default, dkAcc = default;
        for (int i0 = 0; i0 < g.Nq; i0 += Tile)
        {
            int rows = Math.Min(Tile, g.Nq - i0);
            int rowBase = bh * g.Nq + i0;
            // Sᵀ = K·Qᵀ and dPᵀ = V·dOᵀ for keys ty+16a, queries tx+16b.
            var s = DotTiles(default, As, Bs, k, g.KRow(b, h, j0), g.KStrideRow, keys, q, g.QRow(b, h, i0), g.QStrideRow, rows,
                g.D, tid, ty, tx);
            var dp = DotTiles(default, As, Bs, v, g.VRow(b, h, j0), g.VStrideRow, keys, dO, rowBase * g.Dv, g.Dv, rows,
                g.Dv, tid, ty, tx);
            int c0 = i0 + tx, c1 = c0 + 16, c2 = c0 + 32, c3 = c0 + 48;   // this thread's queries
            float lse0 = LoadLse(lse, g, bh, c0), lse1 = LoadLse(lse, g, bh, c1), lse2 = LoadLse(lse, g, bh, c2), lse3 = LoadLse(lse, g, bh, c3);
            float d0 = LoadDelta(delta, g, bh, c0), d1 = LoadDelta(delta, g, bh, c1), d2 = LoadDelta(delta, g, bh, c2), d3 = LoadDelta(delta, g, bh, c3);
            Quad4 pz = default;
            ProbGrad e;
            e = Element(s.A00, dp.A00, mask, g, b, h, bh, c0, k0, lse0, d0); pz.A00 = e.Pz; dp.A00 = e.Ds;
            e = Element(s.A01, dp.A01, mask, g, b, h, bh, c1, k0, lse1, d1); pz.A01 = e.Pz; dp.A01 = e.Ds;
            e = Element(s.A02, dp.A02, mask, g, b, h, bh, c2, k0, lse2, d2); pz.A02 = e.Pz; dp.A02 = e.Ds;
            e = Element(s.A03, dp.A03, mask, g, b, h, bh, c3, k0, lse3, d3); pz.A03 = e.Pz; dp.A03 = e.Ds;
            e = Element(s.A10, dp.A10, mask, g, b, h, bh, c0, k1, lse0, d0); pz.A10 = e.Pz; dp.A10 = e.Ds;
            e = Element(s.A11, dp.A11, mask, g, b, h, bh, c1, k1, lse1, d1); pz.A11 = e.Pz; dp.A11 = e.Ds;
            e = Element(s.A12, dp.A12, mask, g, b, h, bh, c2, k1, lse2, d2); pz.A12 = e.Pz; dp.A12 = e.Ds;
            e = Element(s.A13, dp.A13, mask, g, b, h, bh, c3, k1, lse3, d3); pz.A13 = e.Pz; dp.A13 = e.Ds;
            e = Element(s.A20, dp.A20, mask, g, b, h, bh, c0, k2, lse0, d0); pz.A20 = e.Pz; dp.A20 = e.Ds;
            e = Element(s.A21, dp.A21, mask, g, b, h, bh, c1, k2, lse1, d1); pz.A21 = e.Pz; dp.A21 = e.Ds;
            e = Element(s.A22, dp.A22, mask, g, b, h, bh, c2, k2, lse2, d2); pz.A22 = e.Pz; dp.A22 = e.Ds;
            e = Element(s.A23, dp.A23, mask, g, b, h, bh, c3, k2, lse3, d3); pz.A23 = e.Pz; dp.A23 = e.Ds;
            e = Element(s.A30, dp.A30, mask, g, b, h, bh, c0, k3, lse0, d0); pz.A30 = e.Pz; dp.A30 = e.Ds;
            e = Element(s.A31, dp.A31, mask, g, b, h, bh, c1, k3, lse1, d1); pz.A31 = e.Pz; dp.A31 = e.Ds;
            e = Element(s.A32, dp.A32, mask, g, b, h, bh, c2, k3, lse2, d2); pz.A32 = e.Pz; dp.A32 = e.Ds;
            e = Element(s.A33, dp.A33, mask, g, b, h, bh, c3, k3, lse3, d3); pz.A33 = e.Pz; dp.A33 = e.Ds;

            StoreTile(Ps, pz, ty, tx);     // (P∘Z)ᵀ: keys × queries
            Group.Barrier();
            dvAcc = TileTimesRows(dvAcc, wide, Ps, Xs, dO, rowBase * g.Dv, g.Dv, rows, g.Dv, tid, ty, tx);
            StoreTile(Ps, dp, ty, tx);     // dSᵀ (TileTimesRows ended with a barrier: Ps is free)
            Group.Barrier();
            dkAcc = TileTimesRows(dkAcc, wide, Ps, Xs, q, g.QRow(b, h, i0), g.QStrideRow, rows, g.D, tid, ty, tx);
        }
        int keyRow0 = bh * g.Nk + j0;
        StoreRows(dv, keyRow0, keys, g.Dv, dvAcc, wide, ty, tx, 1f, 1f, 1f, 1f);
        StoreRows(dk, keyRow0, keys, g.D, dkAcc, wide, ty, tx, 1f, 1f, 1f, 1f);
    }

    /// <summary>Tiled dQ for D, Dv ≤ 64. Grid: B·H·⌈Nq/64⌉ groups of <see cref="Threads"/>.</summary>
    [GpuKernel(ExplicitlyGrouped = true)]
    public static void BackwardQ64(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> mask,
        ArrayView<float> lse, ArrayView<float> dO, ArrayView<float> delta, ArrayView<float> dq, AttentionGeometry g)
        => BackwardQ(q, k, v, mask, lse, dO, delta, dq, g, false);

    /// <summary>Tiled dQ for D, Dv ≤ 128. Grid: B·H·⌈Nq/64⌉ groups of <see cref="Threads"/>.</summary>
    [GpuKernel(ExplicitlyGrouped = true)]
    public static void BackwardQ128(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> mask,
        ArrayView<float> lse, ArrayView<float> dO, ArrayView<float> delta, ArrayView<float> dq, AttentionGeometry g)
        => BackwardQ(q, k, v, mask, lse, dO, delta, dq, g, true);

    static void BackwardQ(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> mask,
        ArrayView<float> lse, ArrayView<float> dO, ArrayView<float> delta, ArrayView<float> dq, AttentionGeometry g, bool wide)
    {
        var As = SharedMemory.Allocate<float>(Chunk * Padded);
        var Bs = SharedMemory.Allocate<float>(Chunk * Padded);
        var Ps = SharedMemory.Allocate<float>(Tile * Padded);
        var Xs = SharedMemory.Allocate<float>(Chunk * XStride);
        int blocks = (g.Nq + Tile - 1) / Tile;
        int bh = Grid.IdxX / blocks, i0 = Grid.IdxX % blocks * Tile;
        if (bh >= g.B * g.H) return;   // uniform per group
        int b = bh / g.H, h = bh % g.H;
        int tid = Group.IdxX, tx = tid & 15, ty = tid >> 4;
        int rows = Math.Min(Tile, g.Nq - i0);
        int rowBase = bh * g.Nq + i0;
        int r0 = i0 + ty, r1 = r0 + 16, r2 = r0 + 32, r3 = r0 + 48;

        float lse0 = LoadLse(lse, g, bh, r0), lse1 = LoadLse(lse, g, bh, r1), lse2 = LoadLse(lse, g, bh, r2), lse3 = LoadLse(lse, g, bh, r3);
        float d0 = LoadDelta(delta, g, bh, r0), d1 = LoadDelta(delta, g, bh, r1), d2 = LoadDelta(delta, g, bh, r2), d3 = LoadDelta(delta, g, bh, r3);
        Acc8 acc = default;
        for (int j0 = 0; j0 < g.Nk; j0 += Tile)
        {
            int keys = Math.Min(Tile, g.Nk - j0);
            var s = DotTiles(default, As, Bs, q, g.QRow(b, h, i0), g.QStrideRow, rows, k, g.KRow(b, h, j0), g.KStrideRow, keys,
                g.D, tid, ty, tx);
            var dp = DotTiles(default, As, Bs, dO, rowBase * g.Dv, g.Dv, rows, v, g.VRow(b, h, j0), g.VStrideRow, keys,
                g.Dv, tid, ty, tx);
            int c0 = j0 + tx, c1 = c0 + 16, c2 = c0 + 32, c3 = c0 + 48;
            dp.A00 = Element(s.A00, dp.A00, mask, g, b, h, bh, r0, c0, lse0, d0).Ds;
            dp.A01 = Element(s.A01, dp.A01, mask, g, b, h, bh, r0, c1, lse0, d0).Ds;
            dp.A02 = Element(s.A02, dp.A02, mask, g, b, h, bh, r0, c2, lse0, d0).Ds;
            dp.A03 = Element(s.A03, dp.A03, mask, g, b, h, bh, r0, c3, lse0, d0).Ds;
            dp.A10 = Element(s.A10, dp.A10, mask, g, b, h, bh, r1, c0, lse1, d1).Ds;
            dp.A11 = Element(s.A11, dp.A11, mask, g, b, h, bh, r1, c1, lse1, d1).Ds;
            dp.A12 = Element(s.A12, dp.A12, mask, g, b, h, bh, r1, c2, lse1, d1).Ds;
            dp.A13 = Element(s.A13, dp.A13, mask, g, b, h, bh, r1, c3, lse1, d1).Ds;
            dp.A20 = Element(s.A20, dp.A20, mask, g, b, h, bh, r2, c0, lse2, d2).Ds;
            dp.A21 = Element(s.A21, dp.A21, mask, g, b, h, bh, r2, c1, lse2, d2).Ds;
            dp.A22 = Element(s.A22, dp.A22, mask, g, b, h, bh, r2, c2, lse2, d2).Ds;
            dp.A23 = Element(s.A23, dp.A23, mask, g, b, h, bh, r2, c3, lse2, d2).Ds;
            dp.A30 = Element(s.A30, dp.A30, mask, g, b, h, bh, r3, c0, lse3, d3).Ds;
            dp.A31 = Element(s.A31, dp.A31, mask, g, b, h, bh, r3, c1, lse3, d3).Ds;
            dp.A32 = Element(s.A32, dp.A32, mask, g, b, h, bh, r3, c2, lse3, d3).Ds;
            dp.A33 = Element(s.A33, dp.A33, mask, g, b, h, bh, r3, c3, lse3, d3).Ds;
            StoreTile(Ps, dp, ty, tx);
            Group.Barrier();
            acc = TileTimesRows(acc, wide, Ps, Xs, k, g.KRow(b, h, j0), g.KStrideRow, keys, g.D, tid, ty, tx);
        }
        StoreRows(dq, rowBase, rows, g.D, acc, wide, ty, tx, 1f, 1f, 1f, 1f);
    }
}
