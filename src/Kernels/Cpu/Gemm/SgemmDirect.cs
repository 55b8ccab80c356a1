using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FsrNative.Kernels.Cpu;

public static unsafe partial class Sgemm
{
    [ThreadStatic] private static AlignedBuffer? _scratch;

    /// <summary>
    /// The direct path, for small and skinny products: no packing. op(B) = B runs a register-tiled 4×16 kernel that reads
    /// rows of B in place (A at any strides); op(B) = Bᵀ runs dot products along k (Aᵀ is first copied to a row-major scratch).
    /// </summary>
    private static void DirectGemm(Problem* g)
    {
        int M = g->M, N = g->N, K = g->K;
        if (!g->TransB)
        {
            long rsA = g->TransA ? 1 : g->Lda, csA = g->TransA ? g->Lda : 1;
            int m = 0;
            for (; m + 4 <= M; m += 4)
                DirectRows4(N, K, g->Alpha, g->A + m * rsA, rsA, csA, g->B, g->Ldb, g->Beta, g->C + (long)m * g->Ldc, g->Ldc);
            for (; m < M; m++)
                DirectRow1(N, K, g->Alpha, g->A + m * rsA, csA, g->B, g->Ldb, g->Beta, g->C + (long)m * g->Ldc);
        }
        else
        {
            float* a = g->A;
            long lda = g->Lda;
            if (g->TransA)
            {
                a = (_scratch ??= new AlignedBuffer(0)).Get((long)M * K);
                for (int k = 0; k < K; k++)
                    for (int m = 0; m < M; m++) a[(long)m * K + k] = g->A[(long)k * g->Lda + m];
                lda = K;
            }
            int i = 0;
            for (; i + 2 <= M; i += 2)
                DotRows2(N, K, g->Alpha, a + i * lda, lda, g->B, g->Ldb, g->Beta, g->C + (long)i * g->Ldc, g->Ldc);
            for (; i < M; i++)
                DotRow1(N, K, g->Alpha, a + i * lda, g->B, g->Ldb, g->Beta, g->C + (long)i * g->Ldc);
        }
        if (g->Epilogue != GemmEpilogue.None)
            for (int m = 0; m < M; m++) GemmMath.ApplyEpilogueRow(g->C + (long)m * g->Ldc, g->Bias, N, g->Epilogue);
    }

    /// <summary>Lane mask with the first <paramref name="n"/> (0..8) lanes set, for the column tail.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> TailMask(int n)
        => Avx2.CompareGreaterThan(Vector256.Create(n), Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Finish(Vector256<float> acc, float* c, Vector256<float> mask, float alpha, float beta)
    {
        var v = Avx.Multiply(acc, Vector256.Create(alpha));
        if (beta != 0) v = Fma.MultiplyAdd(Avx.MaskLoad(c, mask), Vector256.Create(beta), v);
        return v;
    }

    /// <summary>Four rows of C = alpha·A·B + beta·C, B read in place (row-major, contiguous along n).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DirectRows4(int N, int K, float alpha, float* a, long rsA, long csA, float* b, long ldb,
        float beta, float* c, long ldc)
    {
        float* a0 = a, a1 = a + rsA, a2 = a + 2 * rsA, a3 = a + 3 * rsA;
        int n = 0;
        var all = Vector256.Create(-1).AsSingle();
        for (; n + 16 <= N; n += 16)
        {
            Vector256<float> x00 = default, x01 = default, x10 = default, x11 = default;
            Vector256<float> x20 = default, x21 = default, x30 = default, x31 = default;
            float* bp = b + n;
            long ka = 0;
            for (int k = 0; k < K; k++, bp += ldb, ka += csA)
            {
                var b0 = Avx.LoadVector256(bp); var b1 = Avx.LoadVector256(bp + 8);
                var av = Vector256.Create(a0[ka]); x00 = Fma.MultiplyAdd(av, b0, x00); x01 = Fma.MultiplyAdd(av, b1, x01);
                av = Vector256.Create(a1[ka]); x10 = Fma.MultiplyAdd(av, b0, x10); x11 = Fma.MultiplyAdd(av, b1, x11);
                av = Vector256.Create(a2[ka]); x20 = Fma.MultiplyAdd(av, b0, x20); x21 = Fma.MultiplyAdd(av, b1, x21);
                av = Vector256.Create(a3[ka]); x30 = Fma.MultiplyAdd(av, b0, x30); x31 = Fma.MultiplyAdd(av, b1, x31);
            }
            float* cp = c + n;
            Avx.Store(cp, Finish(x00, cp, all, alpha, beta)); Avx.Store(cp + 8, Finish(x01, cp + 8, all, alpha, beta)); cp += ldc;
            Avx.Store(cp, Finish(x10, cp, all, alpha, beta)); Avx.Store(cp + 8, Finish(x11, cp + 8, all, alpha, beta)); cp += ldc;
            Avx.Store(cp, Finish(x20, cp, all, alpha, beta)); Avx.Store(cp + 8, Finish(x21, cp + 8, all, alpha, beta)); cp += ldc;
            Avx.Store(cp, Finish(x30, cp, all, alpha, beta)); Avx.Store(cp + 8, Finish(x31, cp + 8, all, alpha, beta));
        }
        for (; n < N; n += 8)
        {
            int w = Math.Min(8, N - n);
            var mask = TailMask(w);
            Vector256<float> x0 = default, x1 = default, x2 = default, x3 = default;
            float* bp = b + n;
            long ka = 0;
            for (int k = 0; k < K; k++, bp += ldb, ka += csA)
            {
                var b0 = Avx.MaskLoad(bp, mask);
                x0 = Fma.MultiplyAdd(Vector256.Create(a0[ka]), b0, x0);
                x1 = Fma.MultiplyAdd(Vector256.Create(a1[ka]), b0, x1);
                x2 = Fma.MultiplyAdd(Vector256.Create(a2[ka]), b0, x2);
                x3 = Fma.MultiplyAdd(Vector256.Create(a3[ka]), b0, x3);
            }
            float* cp = c + n;
            Avx.MaskStore(cp, mask, Finish(x0, cp, mask, alpha, beta)); cp += ldc;
            Avx.MaskStore(cp, mask, Finish(x1, cp, mask, alpha, beta)); cp += ldc;
            Avx.MaskStore(cp, mask, Finish(x2, cp, mask, alpha, beta)); cp += ldc;
            Avx.MaskStore(cp, mask, Finish(x3, cp, mask, alpha, beta));
        }
    }

    /// <summary>One row of C = alpha·a·B + beta·C, B read in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DirectRow1(int N, int K, float alpha, float* a, long csA, float* b, long ldb, float beta, float* c)
    {
        int n = 0;
        var all = Vector256.Create(-1).AsSingle();
        for (; n + 32 <= N; n += 32)
        {
            Vector256<float> x0 = default, x1 = default, x2 = default, x3 = default;
            float* bp = b + n;
            long ka = 0;
            for (int k = 0; k < K; k++, bp += ldb, ka += csA)
            {
                var av = Vector256.Create(a[ka]);
                x0 = Fma.MultiplyAdd(av, Avx.LoadVector256(bp), x0);
                x1 = Fma.MultiplyAdd(av, Avx.LoadVector256(bp + 8), x1);
                x2 = Fma.MultiplyAdd(av, Avx.LoadVector256(bp + 16), x2);
                x3 = Fma.MultiplyAdd(av, Avx.LoadVector256(bp + 24), x3);
            }
            float* cp = c + n;
            Avx.Store(cp, Finish(x0, cp, all, alpha, beta));
            Avx.Store(cp + 8, Finish(x1, cp + 8, all, alpha, beta));
            Avx.Store(cp + 16, Finish(x2, cp + 16, all, alpha, beta));
            Avx.Store(cp + 24, Finish(x3, cp + 24, all, alpha, beta));
        }
        for (; n < N; n += 8)
        {
            int w = Math.Min(8, N - n);
            var mask = TailMask(w);
            Vector256<float> x0 = default;
            float* bp = b + n;
            long ka = 0;
            for (int k = 0; k < K; k++, bp += ldb, ka += csA)
                x0 = Fma.MultiplyAdd(Vector256.Create(a[ka]), Avx.MaskLoad(bp, mask), x0);
            Avx.MaskStore(c + n, mask, Finish(x0, c + n, mask, alpha, beta));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float HSum(Vector256<float> v)
    {
        var s = Sse.Add(v.GetLower(), v.GetUpper());
        s = Sse.Add(s, Sse.MoveHighToLow(s, s));
        s = Sse.AddScalar(s, Sse.Shuffle(s, s, 0x55));
        return s.ToScalar();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreDot(float* c, float dot, float alpha, float beta)
        => *c = beta == 0 ? alpha * dot : MathF.FusedMultiplyAdd(beta, *c, alpha * dot);

    /// <summary>Two rows of C = alpha·A·Bᵀ + beta·C: each element a dot product along k of a row of A and a row of B.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotRows2(int N, int K, float alpha, float* a, long lda, float* b, long ldb, float beta, float* c, long ldc)
    {
        float* a0 = a, a1 = a + lda;
        int kTail = K & 7;
        int kMain = K - kTail;
        var mask = TailMask(kTail);
        int n = 0;
        for (; n + 4 <= N; n += 4)
        {
            float* b0 = b + n * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
            Vector256<float> x00 = default, x01 = default, x02 = default, x03 = default;
            Vector256<float> x10 = default, x11 = default, x12 = default, x13 = default;
            for (int k = 0; k < kMain; k += 8)
            {
                var u = Avx.LoadVector256(a0 + k); var v = Avx.LoadVector256(a1 + k);
                var w = Avx.LoadVector256(b0 + k); x00 = Fma.MultiplyAdd(u, w, x00); x10 = Fma.MultiplyAdd(v, w, x10);
                w = Avx.LoadVector256(b1 + k); x01 = Fma.MultiplyAdd(u, w, x01); x11 = Fma.MultiplyAdd(v, w, x11);
                w = Avx.LoadVector256(b2 + k); x02 = Fma.MultiplyAdd(u, w, x02); x12 = Fma.MultiplyAdd(v, w, x12);
                w = Avx.LoadVector256(b3 + k); x03 = Fma.MultiplyAdd(u, w, x03); x13 = Fma.MultiplyAdd(v, w, x13);
            }
            if (kTail != 0)
            {
                var u = Avx.MaskLoad(a0 + kMain, mask); var v = Avx.MaskLoad(a1 + kMain, mask);
                var w = Avx.MaskLoad(b0 + kMain, mask); x00 = Fma.MultiplyAdd(u, w, x00); x10 = Fma.MultiplyAdd(v, w, x10);
                w = Avx.MaskLoad(b1 + kMain, mask); x01 = Fma.MultiplyAdd(u, w, x01); x11 = Fma.MultiplyAdd(v, w, x11);
                w = Avx.MaskLoad(b2 + kMain, mask); x02 = Fma.MultiplyAdd(u, w, x02); x12 = Fma.MultiplyAdd(v, w, x12);
                w = Avx.MaskLoad(b3 + kMain, mask); x03 = Fma.MultiplyAdd(u, w, x03); x13 = Fma.MultiplyAdd(v, w, x13);
            }
            StoreDot(c + n, HSum(x00), alpha, beta); StoreDot(c + n + 1, HSum(x01), alpha, beta);
            StoreDot(c + n + 2, HSum(x02), alpha, beta); StoreDot(c + n + 3, HSum(x03), alpha, beta);
            StoreDot(c + ldc + n, HSum(x10), alpha, beta); StoreDot(c + ldc + n + 1, HSum(x11), alpha, beta);
            StoreDot(c + ldc + n + 2, HSum(x12), alpha, beta); StoreDot(c + ldc + n + 3, HSum(x13), alpha, beta);
        }
        for (; n < N; n++)
        {
            float* bn = b + n * ldb;
            Vector256<float> x0 = default, x1 = default;
            for (int k = 0; k < kMain; k += 8)
            {
                var w = Avx.LoadVector256(bn + k);
                x0 = Fma.MultiplyAdd(Avx.LoadVector256(a0 + k), w, x0);
                x1 = Fma.MultiplyAdd(Avx.LoadVector256(a1 + k), w, x1);
            }
            if (kTail != 0)
            {
                var w = Avx.MaskLoad(bn + kMain, mask);
                x0 = Fma.MultiplyAdd(Avx.MaskLoad(a0 + kMain, mask), w, x0);
                x1 = Fma.MultiplyAdd(Avx.MaskLoad(a1 + kMain, mask), w, x1);
            }
            StoreDot(c + n, HSum(x0), alpha, beta);
            StoreDot(c + ldc + n, HSum(x1), alpha, beta);
        }
    }

    /// <summary>One row of C = alpha·a·Bᵀ + beta·C.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotRow1(int N, int K, float alpha, float* a, float* b, long ldb, float beta, float* c)
    {
        int kTail = K & 7;
        int kMain = K - kTail;
        var mask = TailMask(kTail);
        int n = 0;
        for (; n + 4 <= N; n += 4)
        {
            float* b0 = b + n * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
            Vector256<float> x0 = default, x1 = default, x2 = default, x3 = default;
            for (int k = 0; k < kMain; k += 8)
            {
                var u = Avx.LoadVector256(a + k);
                x0 = Fma.MultiplyAdd(u, Avx.LoadVector256(b0 + k), x0);
                x1 = Fma.MultiplyAdd(u, Avx.LoadVector256(b1 + k), x1);
                x2 = Fma.MultiplyAdd(u, Avx.LoadVector256(b2 + k), x2);
                x3 = Fma.MultiplyAdd(u, Avx.LoadVector256(b3 + k), x3);
            }
            if (kTail != 0)
            {
                var u = Avx.MaskLoad(a + kMain, mask);
                x0 = Fma.MultiplyAdd(u, Avx.MaskLoad(b0 + kMain, mask), x0);
                x1 = Fma.MultiplyAdd(u, Avx.MaskLoad(b1 + kMain, mask), x1);
                x2 = Fma.MultiplyAdd(u, Avx.MaskLoad(b2 + kMain, mask), x2);
                x3 = Fma.MultiplyAdd(u, Avx.MaskLoad(b3 + kMain, mask), x3);
            }
            StoreDot(c + n, HSum(x0), alpha, beta); StoreDot(c + n + 1, HSum(x1), alpha, beta);
            StoreDot(c + n + 2, HSum(x2), alpha, beta); StoreDot(c + n + 3, HSum(x3), alpha, beta);
        }
        for (; n < N; n++)
        {
            float* bn = b + n * ldb;
            Vector256<float> x0 = default;
            for (int k = 0; k < kMain; k += 8) x0 = Fma.MultiplyAdd(Avx.LoadVector256(a + k), Avx.LoadVector256(bn + k), x0);
            if (kTail != 0) x0 = Fma.MultiplyAdd(Avx.MaskLoad(a + kMain, mask), Avx.MaskLoad(bn + kMain, mask), x0);
            StoreDot(c + n, HSum(x0), alpha, beta);
        }
    }
}
