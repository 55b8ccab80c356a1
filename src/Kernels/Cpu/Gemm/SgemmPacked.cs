using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FsrNative.Kernels.Cpu;

public static unsafe partial class Sgemm
{
    internal const int MR = 6, NR = 16;

    /// <summary>Block sizes (floats). KC·NR·4 B of B micro-panel stays in L1, MC×KC of A in L2, KC×NC of B in L3.</summary>
    internal static int KC = 384, MC = 144, NC = 2048;

    [ThreadStatic] private static AlignedBuffer? _packA, _packB;

    /// <summary>The packed BLIS loop nest for one sub-problem on the calling thread.</summary>
    private static void PackedGemm(Problem* g)
    {
        int M = g->M, N = g->N, K = g->K;
        int kcMax = KC, mcMax = RoundUp(MC, MR), ncMax = RoundUp(NC, NR);
        // Even splits: K = 512 runs as 2×256, not 384+128.
        int kcStep = Math.Min(kcMax, RoundUp(CeilDiv(K, CeilDiv(K, kcMax)), 4));
        int ncStep = Math.Min(ncMax, RoundUp(CeilDiv(N, CeilDiv(N, ncMax)), NR));
        int mcStep = Math.Min(mcMax, RoundUp(CeilDiv(M, CeilDiv(M, mcMax)), MR));
        float* pa = (_packA ??= new AlignedBuffer(0)).Get((long)mcMax * kcMax + 64);
        float* pb = (_packB ??= new AlignedBuffer(0)).Get((long)kcMax * ncMax + 64);
        float* stage = stackalloc float[MR * NR + 2 * NR];

        for (int jc = 0; jc < N; jc += ncStep)
        {
            int nc = Math.Min(ncStep, N - jc);
            for (int pc = 0; pc < K; pc += kcStep)
            {
                int kc = Math.Min(kcStep, K - pc);
                bool first = pc == 0, last = pc + kc == K;
                float beta = first ? g->Beta : 1.0f;
                GemmEpilogue ep = last ? g->Epilogue : GemmEpilogue.None;
                float* bias = last && g->Bias != null ? g->Bias + jc : null;

                if (g->TransB) PackBTrans(g->B + (long)jc * g->Ldb + pc, g->Ldb, kc, nc, pb);
                else PackB(g->B + (long)pc * g->Ldb + jc, g->Ldb, kc, nc, pb);

                for (int ic = 0; ic < M; ic += mcStep)
                {
                    int mc = Math.Min(mcStep, M - ic);
                    if (g->TransA) PackATrans(g->A + (long)pc * g->Lda + ic, g->Lda, mc, kc, pa);
                    else PackA(g->A + (long)ic * g->Lda + pc, g->Lda, mc, kc, pa);
                    MacroKernel(mc, nc, kc, pa, pb, g->C + (long)ic * g->Ldc + jc, g->Ldc, g->Alpha, beta, bias, ep, stage);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int CeilDiv(int a, int b) => (a + b - 1) / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int RoundUp(int a, int b) => CeilDiv(a, b) * b;

    /// <summary>All MR×NR tiles of an mc×nc block; the B micro-panel (outer loop) stays in L1 while A strips stream from L2.</summary>
    private static void MacroKernel(int mc, int nc, int kc, float* pa, float* pb, float* c, int ldc,
        float alpha, float beta, float* bias, GemmEpilogue ep, float* stage)
    {
        for (int jr = 0; jr < nc; jr += NR)
        {
            int nr = Math.Min(NR, nc - jr);
            float* b = pb + (long)jr * kc;
            float* biasJ = bias != null ? bias + jr : null;
            for (int ir = 0; ir < mc; ir += MR)
            {
                int mr = Math.Min(MR, mc - ir);
                float* a = pa + (long)ir * kc;
                float* cij = c + (long)ir * ldc + jr;
                if (mr == MR && nr == NR) Kernel6x16(kc, a, b, cij, ldc, alpha, beta, biasJ, ep);
                else EdgeTile(kc, a, b, cij, ldc, mr, nr, alpha, beta, biasJ, ep, stage);
            }
        }
    }

    /// <summary>A partial tile: run the full kernel on a staging tile, then copy the mr×nr corner out.</summary>
    private static void EdgeTile(int kc, float* a, float* b, float* c, int ldc, int mr, int nr,
        float alpha, float beta, float* bias, GemmEpilogue ep, float* stage)
    {
        float* st = stage;
        float* sbias = stage + MR * NR;
        if (beta != 0)
            for (int r = 0; r < mr; r++)
                for (int j = 0; j < nr; j++) st[r * NR + j] = c[(long)r * ldc + j];
        if (bias != null)
        {
            for (int j = 0; j < NR; j++) sbias[j] = j < nr ? bias[j] : 0f;
            bias = sbias;
        }
        Kernel6x16(kc, a, b, st, NR, alpha, beta, bias, ep);
        for (int r = 0; r < mr; r++)
            for (int j = 0; j < nr; j++) c[(long)r * ldc + j] = st[r * NR + j];
    }

    // ------------------------------------------------------------------------------------------------------------
    // Packing. Packed A: strips of MR rows, element (r, k) of a strip at k·MR + r. Packed B: strips of NR columns,
    // element (k, j) at k·NR + j. Strips past the matrix edge are zero-filled.

    /// <summary>op(A) = A: block rows are contiguous along k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackA(float* a, int lda, int mc, int kc, float* dst)
    {
        for (int i = 0; i < mc; i += MR)
        {
            int mr = Math.Min(MR, mc - i);
            float* src = a + (long)i * lda;
            if (mr == MR)
            {
                float* r0 = src, r1 = src + lda, r2 = src + 2L * lda, r3 = src + 3L * lda, r4 = src + 4L * lda, r5 = src + 5L * lda;
                int k = 0;
                for (; k + 8 <= kc; k += 8)
                {
                    // 6 rows × 8 k → 8 k × 6 rows: transpose as an 8×8 with two rows of don't-care, store 6 of each 8.
                    var v0 = Avx.LoadVector256(r0 + k); var v1 = Avx.LoadVector256(r1 + k);
                    var v2 = Avx.LoadVector256(r2 + k); var v3 = Avx.LoadVector256(r3 + k);
                    var v4 = Avx.LoadVector256(r4 + k); var v5 = Avx.LoadVector256(r5 + k);
                    var t0 = Avx.UnpackLow(v0, v1); var t1 = Avx.UnpackHigh(v0, v1);
                    var t2 = Avx.UnpackLow(v2, v3); var t3 = Avx.UnpackHigh(v2, v3);
                    var t4 = Avx.UnpackLow(v4, v5); var t5 = Avx.UnpackHigh(v4, v5);
                    // t0 = a0 b0 a1 b1 | a4 b4 a5 b5 ; t2 = c0 d0 c1 d1 | ... ; t4 = e0 f0 e1 f1 | ...
                    var u0 = Avx.Shuffle(t0, t2, 0x44); // a0 b0 c0 d0 | a4 b4 c4 d4
                    var u1 = Avx.Shuffle(t0, t2, 0xEE); // a1 b1 c1 d1 | a5 ...
                    var u2 = Avx.Shuffle(t1, t3, 0x44); // a2 b2 c2 d2 | a6
                    var u3 = Avx.Shuffle(t1, t3, 0xEE); // a3 b3 c3 d3 | a7
                    // e/f pairs: t4 = e0 f0 e1 f1 | e4 f4 e5 f5, t5 = e2 f2 e3 f3 | e6 f6 e7 f7
                    float* d = dst + (long)k * MR;
                    // k = 0..3 from the low lanes, 4..7 from the high lanes
                    StoreK(d + 0 * MR, u0.GetLower(), t4.GetLower().AsDouble().ToScalar());
                    StoreK(d + 1 * MR, u1.GetLower(), Sse2.UnpackHigh(t4.GetLower().AsDouble(), t4.GetLower().AsDouble()).ToScalar());
                    StoreK(d + 2 * MR, u2.GetLower(), t5.GetLower().AsDouble().ToScalar());
                    StoreK(d + 3 * MR, u3.GetLower(), Sse2.UnpackHigh(t5.GetLower().AsDouble(), t5.GetLower().AsDouble()).ToScalar());
                    StoreK(d + 4 * MR, u0.GetUpper(), t4.GetUpper().AsDouble().ToScalar());
                    StoreK(d + 5 * MR, u1.GetUpper(), Sse2.UnpackHigh(t4.GetUpper().AsDouble(), t4.GetUpper().AsDouble()).ToScalar());
                    StoreK(d + 6 * MR, u2.GetUpper(), t5.GetUpper().AsDouble().ToScalar());
                    StoreK(d + 7 * MR, u3.GetUpper(), Sse2.UnpackHigh(t5.GetUpper().AsDouble(), t5.GetUpper().AsDouble()).ToScalar());
                }
                for (; k < kc; k++)
                {
                    float* d = dst + (long)k * MR;
                    d[0] = r0[k]; d[1] = r1[k]; d[2] = r2[k]; d[3] = r3[k]; d[4] = r4[k]; d[5] = r5[k];
                }
            }
            else
            {
                for (int k = 0; k < kc; k++)
                {
                    float* d = dst + (long)k * MR;
                    for (int r = 0; r < MR; r++) d[r] = r < mr ? src[(long)r * lda + k] : 0f;
                }
            }
            dst += (long)MR * kc;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreK(float* d, Vector128<float> first4, double last2)
    {
        Sse.Store(d, first4);
        *(double*)(d + 4) = last2;
    }

    /// <summary>op(A) = Aᵀ: for each k the MR values of a strip are contiguous.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackATrans(float* a, int lda, int mc, int kc, float* dst)
    {
        for (int i = 0; i < mc; i += MR)
        {
            int mr = Math.Min(MR, mc - i);
            float* src = a + i;
            if (mr == MR)
            {
                for (int k = 0; k < kc; k++)
                {
                    float* s = src + (long)k * lda;
                    float* d = dst + (long)k * MR;
                    Sse.Store(d, Sse.LoadVector128(s));
                    *(double*)(d + 4) = *(double*)(s + 4);
                }
            }
            else
            {
                for (int k = 0; k < kc; k++)
                {
                    float* s = src + (long)k * lda;
                    float* d = dst + (long)k * MR;
                    for (int r = 0; r < MR; r++) d[r] = r < mr ? s[r] : 0f;
                }
            }
            dst += (long)MR * kc;
        }
    }

    /// <summary>op(B) = B: each k row of a strip is 16 contiguous floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackB(float* b, int ldb, int kc, int nc, float* dst)
    {
        for (int j = 0; j < nc; j += NR)
        {
            int nr = Math.Min(NR, nc - j);
            float* src = b + j;
            if (nr == NR)
            {
                int k = 0;
                for (; k + 2 <= kc; k += 2)
                {
                    float* s = src + (long)k * ldb;
                    float* d = dst + k * NR;
                    var x0 = Avx.LoadVector256(s); var x1 = Avx.LoadVector256(s + 8);
                    var y0 = Avx.LoadVector256(s + ldb); var y1 = Avx.LoadVector256(s + ldb + 8);
                    Avx.StoreAligned(d, x0); Avx.StoreAligned(d + 8, x1);
                    Avx.StoreAligned(d + 16, y0); Avx.StoreAligned(d + 24, y1);
                }
                for (; k < kc; k++)
                {
                    float* s = src + (long)k * ldb;
                    float* d = dst + k * NR;
                    Avx.StoreAligned(d, Avx.LoadVector256(s));
                    Avx.StoreAligned(d + 8, Avx.LoadVector256(s + 8));
                }
            }
            else
            {
                for (int k = 0; k < kc; k++)
                {
                    float* s = src + (long)k * ldb;
                    float* d = dst + k * NR;
                    for (int c = 0; c < NR; c++) d[c] = c < nr ? s[c] : 0f;
                }
            }
            dst += (long)NR * kc;
        }
    }

    /// <summary>op(B) = Bᵀ (B stored [N, K], as a Linear weight): 8×8 register transposes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackBTrans(float* b, int ldb, int kc, int nc, float* dst)
    {
        for (int j = 0; j < nc; j += NR)
        {
            int nr = Math.Min(NR, nc - j);
            float* src = b + (long)j * ldb; // row n of B holds column n of op(B), contiguous along k
            if (nr == NR)
            {
                int k = 0;
                for (; k + 8 <= kc; k += 8)
                {
                    Transpose8x8(src + k, ldb, dst + k * NR, NR);
                    Transpose8x8(src + 8L * ldb + k, ldb, dst + k * NR + 8, NR);
                }
                for (; k < kc; k++)
                {
                    float* d = dst + k * NR;
                    for (int c = 0; c < NR; c++) d[c] = src[(long)c * ldb + k];
                }
            }
            else
            {
                for (int k = 0; k < kc; k++)
                {
                    float* d = dst + k * NR;
                    for (int c = 0; c < NR; c++) d[c] = c < nr ? src[(long)c * ldb + k] : 0f;
                }
            }
            dst += (long)NR * kc;
        }
    }

    /// <summary>dst[i·lddst + r] = src[r·ldsrc + i] for an 8×8 block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* src, int ldsrc, float* dst, int lddst)
    {
        var r0 = Avx.LoadVector256(src); var r1 = Avx.LoadVector256(src + ldsrc);
        var r2 = Avx.LoadVector256(src + 2L * ldsrc); var r3 = Avx.LoadVector256(src + 3L * ldsrc);
        var r4 = Avx.LoadVector256(src + 4L * ldsrc); var r5 = Avx.LoadVector256(src + 5L * ldsrc);
        var r6 = Avx.LoadVector256(src + 6L * ldsrc); var r7 = Avx.LoadVector256(src + 7L * ldsrc);
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst + 0 * lddst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + 1 * lddst, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * lddst, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * lddst, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * lddst, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * lddst, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * lddst, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * lddst, Avx.Permute2x128(u3, u7, 0x31));
    }

    // ------------------------------------------------------------------------------------------------------------
    // The micro-kernel

    /// <summary>
    /// C[6×16] = act(alpha·(Ap·Bp) + beta·C + bias) for one packed A strip (kc×6) and B strip (kc×16); beta = 0 never
    /// reads C. 12 ymm accumulators, 2 B loads and 6 broadcasts per k, k unrolled ×4.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x16(int kc, float* a, float* b, float* c, int ldc,
        float alpha, float beta, float* bias, GemmEpilogue ep)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        int k = kc;
        while (k >= 4)
        {
            Vector256<float> b0, b1, av;
            b0 = Avx.LoadAlignedVector256(b); b1 = Avx.LoadAlignedVector256(b + 8);
            av = Avx.BroadcastScalarToVector256(a + 0); c00 = Fma.MultiplyAdd(av, b0, c00); c01 = Fma.MultiplyAdd(av, b1, c01);
            av = Avx.BroadcastScalarToVector256(a + 1); c10 = Fma.MultiplyAdd(av, b0, c10); c11 = Fma.MultiplyAdd(av, b1, c11);
            av = Avx.BroadcastScalarToVector256(a + 2); c20 = Fma.MultiplyAdd(av, b0, c20); c21 = Fma.MultiplyAdd(av, b1, c21);
            av = Avx.BroadcastScalarToVector256(a + 3); c30 = Fma.MultiplyAdd(av, b0, c30); c31 = Fma.MultiplyAdd(av, b1, c31);
            av = Avx.BroadcastScalarToVector256(a + 4); c40 = Fma.MultiplyAdd(av, b0, c40); c41 = Fma.MultiplyAdd(av, b1, c41);
            av = Avx.BroadcastScalarToVector256(a + 5); c50 = Fma.MultiplyAdd(av, b0, c50); c51 = Fma.MultiplyAdd(av, b1, c51);

            b0 = Avx.LoadAlignedVector256(b + 16); b1 = Avx.LoadAlignedVector256(b + 24);
            av = Avx.BroadcastScalarToVector256(a + 6); c00 = Fma.MultiplyAdd(av, b0, c00); c01 = Fma.MultiplyAdd(av, b1, c01);
            av = Avx.BroadcastScalarToVector256(a + 7); c10 = Fma.MultiplyAdd(av, b0, c10); c11 = Fma.MultiplyAdd(av, b1, c11);
            av = Avx.BroadcastScalarToVector256(a + 8); c20 = Fma.MultiplyAdd(av, b0, c20); c21 = Fma.MultiplyAdd(av, b1, c21);
            av = Avx.BroadcastScalarToVector256(a + 9); c30 = Fma.MultiplyAdd(av, b0, c30); c31 = Fma.MultiplyAdd(av, b1, c31);
            av = Avx.BroadcastScalarToVector256(a + 10); c40 = Fma.MultiplyAdd(av, b0, c40); c41 = Fma.MultiplyAdd(av, b1, c41);
            av = Avx.BroadcastScalarToVector256(a + 11); c50 = Fma.MultiplyAdd(av, b0, c50); c51 = Fma.MultiplyAdd(av, b1, c51);

            b0 = Avx.LoadAlignedVector256(b + 32); b1 = Avx.LoadAlignedVector256(b + 40);
            av = Avx.BroadcastScalarToVector256(a + 12); c00 = Fma.MultiplyAdd(av, b0, c00); c01 = Fma.MultiplyAdd(av, b1, c01);
            av = Avx.BroadcastScalarToVector256(a + 13); c10 = Fma.MultiplyAdd(av, b0, c10); c11 = Fma.MultiplyAdd(av, b1, c11);
            av = Avx.BroadcastScalarToVector256(a + 14); c20 = Fma.MultiplyAdd(av, b0, c20); c21 = Fma.MultiplyAdd(av, b1, c21);
            av = Avx.BroadcastScalarToVector256(a + 15); c30 = Fma.MultiplyAdd(av, b0, c30); c31 = Fma.MultiplyAdd(av, b1, c31);
            av = Avx.BroadcastScalarToVector256(a + 16); c40 = Fma.MultiplyAdd(av, b0, c40); c41 = Fma.MultiplyAdd(av, b1, c41);
            av = Avx.BroadcastScalarToVector256(a + 17); c50 = Fma.MultiplyAdd(av, b0, c50); c51 = Fma.MultiplyAdd(av, b1, c51);

            b0 = Avx.LoadAlignedVector256(b + 48); b1 = Avx.LoadAlignedVector256(b + 56);
            av = Avx.BroadcastScalarToVector256(a + 18); c00 = Fma.MultiplyAdd(av, b0, c00); c01 = Fma.MultiplyAdd(av, b1, c01);
            av = Avx.BroadcastScalarToVector256(a + 19); c10 = Fma.MultiplyAdd(av, b0, c10); c11 = Fma.MultiplyAdd(av, b1, c11);
            av = Avx.BroadcastScalarToVector256(a + 20); c20 = Fma.MultiplyAdd(av, b0, c20); c21 = Fma.MultiplyAdd(av, b1, c21);
            av = Avx.BroadcastScalarToVector256(a + 21); c30 = Fma.MultiplyAdd(av, b0, c30); c31 = Fma.MultiplyAdd(av, b1, c31);
            av = Avx.BroadcastScalarToVector256(a + 22); c40 = Fma.MultiplyAdd(av, b0, c40); c41 = Fma.MultiplyAdd(av, b1, c41);
            av = Avx.BroadcastScalarToVector256(a + 23); c50 = Fma.MultiplyAdd(av, b0, c50); c51 = Fma.MultiplyAdd(av, b1, c51);

            a += 4 * MR;
            b += 4 * NR;
            k -= 4;
        }
        while (k > 0)
        {
            var b0 = Avx.LoadAlignedVector256(b); var b1 = Avx.LoadAlignedVector256(b + 8);
            var av = Avx.BroadcastScalarToVector256(a + 0); c00 = Fma.MultiplyAdd(av, b0, c00); c01 = Fma.MultiplyAdd(av, b1, c01);
            av = Avx.BroadcastScalarToVector256(a + 1); c10 = Fma.MultiplyAdd(av, b0, c10); c11 = Fma.MultiplyAdd(av, b1, c11);
            av = Avx.BroadcastScalarToVector256(a + 2); c20 = Fma.MultiplyAdd(av, b0, c20); c21 = Fma.MultiplyAdd(av, b1, c21);
            av = Avx.BroadcastScalarToVector256(a + 3); c30 = Fma.MultiplyAdd(av, b0, c30); c31 = Fma.MultiplyAdd(av, b1, c31);
            av = Avx.BroadcastScalarToVector256(a + 4); c40 = Fma.MultiplyAdd(av, b0, c40); c41 = Fma.MultiplyAdd(av, b1, c41);
            av = Avx.BroadcastScalarToVector256(a + 5); c50 = Fma.MultiplyAdd(av, b0, c50); c51 = Fma.MultiplyAdd(av, b1, c51);
            a += MR;
            b += NR;
            k--;
        }

        if (ep == GemmEpilogue.None && beta == 0)
        {
            var al = Vector256.Create(alpha);
            Avx.Store(c, Avx.Multiply(c00, al)); Avx.Store(c + 8, Avx.Multiply(c01, al)); c += ldc;
            Avx.Store(c, Avx.Multiply(c10, al)); Avx.Store(c + 8, Avx.Multiply(c11, al)); c += ldc;
            Avx.Store(c, Avx.Multiply(c20, al)); Avx.Store(c + 8, Avx.Multiply(c21, al)); c += ldc;
            Avx.Store(c, Avx.Multiply(c30, al)); Avx.Store(c + 8, Avx.Multiply(c31, al)); c += ldc;
            Avx.Store(c, Avx.Multiply(c40, al)); Avx.Store(c + 8, Avx.Multiply(c41, al)); c += ldc;
            Avx.Store(c, Avx.Multiply(c50, al)); Avx.Store(c + 8, Avx.Multiply(c51, al));
        }
        else if (ep == GemmEpilogue.None && beta == 1)
        {
            var al = Vector256.Create(alpha);
            Avx.Store(c, Fma.MultiplyAdd(c00, al, Avx.LoadVector256(c))); Avx.Store(c + 8, Fma.MultiplyAdd(c01, al, Avx.LoadVector256(c + 8))); c += ldc;
            Avx.Store(c, Fma.MultiplyAdd(c10, al, Avx.LoadVector256(c))); Avx.Store(c + 8, Fma.MultiplyAdd(c11, al, Avx.LoadVector256(c + 8))); c += ldc;
            Avx.Store(c, Fma.MultiplyAdd(c20, al, Avx.LoadVector256(c))); Avx.Store(c + 8, Fma.MultiplyAdd(c21, al, Avx.LoadVector256(c + 8))); c += ldc;
            Avx.Store(c, Fma.MultiplyAdd(c30, al, Avx.LoadVector256(c))); Avx.Store(c + 8, Fma.MultiplyAdd(c31, al, Avx.LoadVector256(c + 8))); c += ldc;
            Avx.Store(c, Fma.MultiplyAdd(c40, al, Avx.LoadVector256(c))); Avx.Store(c + 8, Fma.MultiplyAdd(c41, al, Avx.LoadVector256(c + 8))); c += ldc;
            Avx.Store(c, Fma.MultiplyAdd(c50, al, Avx.LoadVector256(c))); Avx.Store(c + 8, Fma.MultiplyAdd(c51, al, Avx.LoadVector256(c + 8)));
        }
        else
        {
            WriteRow(c, c00, c01, alpha, beta, bias, ep); c += ldc;
            WriteRow(c, c10, c11, alpha, beta, bias, ep); c += ldc;
            WriteRow(c, c20, c21, alpha, beta, bias, ep); c += ldc;
            WriteRow(c, c30, c31, alpha, beta, bias, ep); c += ldc;
            WriteRow(c, c40, c41, alpha, beta, bias, ep); c += ldc;
            WriteRow(c, c50, c51, alpha, beta, bias, ep);
        }
    }

    /// <summary>The general write-back of one 16-wide row: alpha, beta (0 = no read), bias, activation.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void WriteRow(float* c, Vector256<float> x0, Vector256<float> x1, float alpha, float beta, float* bias, GemmEpilogue ep)
    {
        var al = Vector256.Create(alpha);
        x0 = Avx.Multiply(x0, al);
        x1 = Avx.Multiply(x1, al);
        if (beta != 0)
        {
            var be = Vector256.Create(beta);
            x0 = Fma.MultiplyAdd(Avx.LoadVector256(c), be, x0);
            x1 = Fma.MultiplyAdd(Avx.LoadVector256(c + 8), be, x1);
        }
        if (bias != null)
        {
            x0 = Avx.Add(x0, Avx.LoadVector256(bias));
            x1 = Avx.Add(x1, Avx.LoadVector256(bias + 8));
        }
        if (ep == GemmEpilogue.BiasGeluErf)
        {
            x0 = CpuVecMath.GeluErf(x0);
            x1 = CpuVecMath.GeluErf(x1);
        }
        else if (ep == GemmEpilogue.BiasGeluTanh)
        {
            x0 = CpuVecMath.GeluTanh(x0);
            x1 = CpuVecMath.GeluTanh(x1);
        }
        Avx.Store(c, x0);
        Avx.Store(c + 8, x1);
    }
}
