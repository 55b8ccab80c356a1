using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FsrNative.Kernels.Cpu;

/// <summary>
/// The small matrix products inside one attention block, on unpacked operands (the blocks are L1/L2-resident, so
/// no packing beyond what the caller does once per head):
/// <list type="bullet">
/// <item><see cref="Multiply"/>: C (M×N) = [C +] A·B with A read through two strides (A(r, k) = a[r·ars + k·aks], so
/// the same kernel does A·B and Aᵀ·B) and B row-major (B(k, n) = b[k·ldb + n], n contiguous). Register tile of
/// 6 rows × 16 columns (12 ymm accumulators; per k: 2 loads of B, 6 broadcasts of A, 12 FMAs); 8-column and masked
/// tails; row tails by the same tile specialised for 1–5 rows (generic struct parameters, so the JIT drops the
/// unused accumulators).</item>
/// <item><see cref="DotRows"/>: C(r, j) = a_r·b_j for row-major a and b (a product with Bᵀ and no packing), four
/// dot products at a time: for short query blocks, where packing Bᵀ would cost more than the product.</item>
/// </list>
/// Summation order is a function of the shapes only (k ascending per lane, fixed horizontal sums).
/// </summary>
internal static unsafe class AttentionGemm
{
    interface IRows { static abstract int N { get; } }
    struct R1 : IRows { public static int N => 1; }
    struct R2 : IRows { public static int N => 2; }
    struct R3 : IRows { public static int N => 3; }
    struct R4 : IRows { public static int N => 4; }
    struct R5 : IRows { public static int N => 5; }
    struct R6 : IRows { public static int N => 6; }

    /// <summary>C (M×N, row stride ldc) = [C +] A·B; A(r, k) = a[r·ars + k·aks], B(k, n) = b[k·ldb + n].</summary>
    public static void Multiply(int M, int N, int K, float* a, long ars, long aks, float* b, long ldb, float* c, long ldc, bool accumulate)
    {
        if (M <= 0 || N <= 0) return;
        if (!CpuVecMath.IsSupported)
        {
            MultiplyScalar(M, N, K, a, ars, aks, b, ldb, c, ldc, accumulate);
            return;
        }
        for (int i = 0; i < M; i += 6)
        {
            float* ai = a + i * ars, ci = c + i * ldc;
            switch (Math.Min(6, M - i))
            {
                case 6: Rows<R6>(N, K, ai, ars, aks, b, ldb, ci, ldc, accumulate); break;
                case 5: Rows<R5>(N, K, ai, ars, aks, b, ldb, ci, ldc, accumulate); break;
                case 4: Rows<R4>(N, K, ai, ars, aks, b, ldb, ci, ldc, accumulate); break;
                case 3: Rows<R3>(N, K, ai, ars, aks, b, ldb, ci, ldc, accumulate); break;
                case 2: Rows<R2>(N, K, ai, ars, aks, b, ldb, ci, ldc, accumulate); break;
                default: Rows<R1>(N, K, ai, ars, aks, b, ldb, ci, ldc, accumulate); break;
            }
        }
    }

    static void MultiplyScalar(int M, int N, int K, float* a, long ars, long aks, float* b, long ldb, float* c, long ldc, bool accumulate)
    {
        for (int r = 0; r < M; r++)
            for (int n = 0; n < N; n++)
            {
                float s = accumulate ? c[r * ldc + n] : 0f;
                for (int k = 0; k < K; k++) s += a[r * ars + k * aks] * b[k * ldb + n];
                c[r * ldc + n] = s;
            }
    }

    static void Rows<TR>(int N, int K, float* a, long ars, long aks, float* b, long ldb, float* c, long ldc, bool acc) where TR : struct, IRows
    {
        int j = 0;
        for (; j + 16 <= N; j += 16) Tile16<TR>(K, a, ars, aks, b + j, ldb, c + j, ldc, acc);
        for (; j < N; j += 8) Tile8<TR>(K, a, ars, aks, b + j, ldb, c + j, ldc, acc, Math.Min(8, N - j));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Init(bool acc, float* c) => acc ? Avx.LoadVector256(c) : Vector256<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Tile16<TR>(int K, float* a, long ars, long aks, float* b, long ldb, float* c, long ldc, bool acc) where TR : struct, IRows
    {
        int n = TR.N;
        long o1 = ars, o2 = 2 * ars, o3 = 3 * ars, o4 = 4 * ars, o5 = 5 * ars;
        var c00 = Init(acc, c); var c01 = Init(acc, c + 8);
        Vector256<float> c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default,
            c40 = default, c41 = default, c50 = default, c51 = default;
        if (n > 1) { c10 = Init(acc, c + ldc); c11 = Init(acc, c + ldc + 8); }
        if (n > 2) { c20 = Init(acc, c + 2 * ldc); c21 = Init(acc, c + 2 * ldc + 8); }
        if (n > 3) { c30 = Init(acc, c + 3 * ldc); c31 = Init(acc, c + 3 * ldc + 8); }
        if (n > 4) { c40 = Init(acc, c + 4 * ldc); c41 = Init(acc, c + 4 * ldc + 8); }
        if (n > 5) { c50 = Init(acc, c + 5 * ldc); c51 = Init(acc, c + 5 * ldc + 8); }
        float* ak = a, bk = b;
        for (int k = 0; k < K; k++, ak += aks, bk += ldb)
        {
            var b0 = Avx.LoadVector256(bk);
            var b1 = Avx.LoadVector256(bk + 8);
            var x = Vector256.Create(ak[0]);
            c00 = Fma.MultiplyAdd(x, b0, c00); c01 = Fma.MultiplyAdd(x, b1, c01);
            if (n > 1) { x = Vector256.Create(ak[o1]); c10 = Fma.MultiplyAdd(x, b0, c10); c11 = Fma.MultiplyAdd(x, b1, c11); }
            if (n > 2) { x = Vector256.Create(ak[o2]); c20 = Fma.MultiplyAdd(x, b0, c20); c21 = Fma.MultiplyAdd(x, b1, c21); }
            if (n > 3) { x = Vector256.Create(ak[o3]); c30 = Fma.MultiplyAdd(x, b0, c30); c31 = Fma.MultiplyAdd(x, b1, c31); }
            if (n > 4) { x = Vector256.Create(ak[o4]); c40 = Fma.MultiplyAdd(x, b0, c40); c41 = Fma.MultiplyAdd(x, b1, c41); }
            if (n > 5) { x = Vector256.Create(ak[o5]); c50 = Fma.MultiplyAdd(x, b0, c50); c51 = Fma.MultiplyAdd(x, b1, c51); }
        }
        Avx.Store(c, c00); Avx.Store(c + 8, c01);
        if (n > 1) { Avx.Store(c + ldc, c10); Avx.Store(c + ldc + 8, c11); }
        if (n > 2) { Avx.Store(c + 2 * ldc, c20); Avx.Store(c + 2 * ldc + 8, c21); }
        if (n > 3) { Avx.Store(c + 3 * ldc, c30); Avx.Store(c + 3 * ldc + 8, c31); }
        if (n > 4) { Avx.Store(c + 4 * ldc, c40); Avx.Store(c + 4 * ldc + 8, c41); }
        if (n > 5) { Avx.Store(c + 5 * ldc, c50); Avx.Store(c + 5 * ldc + 8, c51); }
    }

    /// <summary>The 6×8 tile for the last 1–8 columns (masked loads and stores: nothing past column N is touched).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Tile8<TR>(int K, float* a, long ars, long aks, float* b, long ldb, float* c, long ldc, bool acc, int cols) where TR : struct, IRows
    {
        int n = TR.N;
        var mask = CpuVecMath.TailMask(cols);
        long o1 = ars, o2 = 2 * ars, o3 = 3 * ars, o4 = 4 * ars, o5 = 5 * ars;
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        if (acc)
        {
            c0 = Avx.MaskLoad(c, mask);
            if (n > 1) c1 = Avx.MaskLoad(c + ldc, mask);
            if (n > 2) c2 = Avx.MaskLoad(c + 2 * ldc, mask);
            if (n > 3) c3 = Avx.MaskLoad(c + 3 * ldc, mask);
            if (n > 4) c4 = Avx.MaskLoad(c + 4 * ldc, mask);
            if (n > 5) c5 = Avx.MaskLoad(c + 5 * ldc, mask);
        }
        float* ak = a, bk = b;
        for (int k = 0; k < K; k++, ak += aks, bk += ldb)
        {
            var b0 = Avx.MaskLoad(bk, mask);
            c0 = Fma.MultiplyAdd(Vector256.Create(ak[0]), b0, c0);
            if (n > 1) c1 = Fma.MultiplyAdd(Vector256.Create(ak[o1]), b0, c1);
            if (n > 2) c2 = Fma.MultiplyAdd(Vector256.Create(ak[o2]), b0, c2);
            if (n > 3) c3 = Fma.MultiplyAdd(Vector256.Create(ak[o3]), b0, c3);
            if (n > 4) c4 = Fma.MultiplyAdd(Vector256.Create(ak[o4]), b0, c4);
            if (n > 5) c5 = Fma.MultiplyAdd(Vector256.Create(ak[o5]), b0, c5);
        }
        Avx.MaskStore(c, mask, c0);
        if (n > 1) Avx.MaskStore(c + ldc, mask, c1);
        if (n > 2) Avx.MaskStore(c + 2 * ldc, mask, c2);
        if (n > 3) Avx.MaskStore(c + 3 * ldc, mask, c3);
        if (n > 4) Avx.MaskStore(c + 4 * ldc, mask, c4);
        if (n > 5) Avx.MaskStore(c + 5 * ldc, mask, c5);
    }

    /// <summary>C(r, j) = Σ_k a[r·lda + k]·b[j·ldb + k] for r &lt; M, j &lt; N (row-major a and b, k contiguous).</summary>
    public static void DotRows(int M, int N, int K, float* a, long lda, float* b, long ldb, float* c, long ldc)
    {
        if (!CpuVecMath.IsSupported)
        {
            for (int r = 0; r < M; r++)
                for (int j = 0; j < N; j++)
                {
                    float s = 0f;
                    for (int k = 0; k < K; k++) s += a[r * lda + k] * b[j * ldb + k];
                    c[r * ldc + j] = s;
                }
            return;
        }
        int full = K & ~7, tail = K - full;
        var mask = CpuVecMath.TailMask(tail);
        for (int r = 0; r < M; r++)
        {
            float* ar = a + r * lda, cr = c + r * ldc;
            int j = 0;
            for (; j + 4 <= N; j += 4)
            {
                float* b0 = b + j * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
                Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
                for (int k = 0; k < full; k += 8)
                {
                    var x = Avx.LoadVector256(ar + k);
                    s0 = Fma.MultiplyAdd(x, Avx.LoadVector256(b0 + k), s0);
                    s1 = Fma.MultiplyAdd(x, Avx.LoadVector256(b1 + k), s1);
                    s2 = Fma.MultiplyAdd(x, Avx.LoadVector256(b2 + k), s2);
                    s3 = Fma.MultiplyAdd(x, Avx.LoadVector256(b3 + k), s3);
                }
                if (tail > 0)
                {
                    var x = Avx.MaskLoad(ar + full, mask);
                    s0 = Fma.MultiplyAdd(x, Avx.MaskLoad(b0 + full, mask), s0);
                    s1 = Fma.MultiplyAdd(x, Avx.MaskLoad(b1 + full, mask), s1);
                    s2 = Fma.MultiplyAdd(x, Avx.MaskLoad(b2 + full, mask), s2);
                    s3 = Fma.MultiplyAdd(x, Avx.MaskLoad(b3 + full, mask), s3);
                }
                cr[j] = CpuVecMath.HorizontalSum(s0);
                cr[j + 1] = CpuVecMath.HorizontalSum(s1);
                cr[j + 2] = CpuVecMath.HorizontalSum(s2);
                cr[j + 3] = CpuVecMath.HorizontalSum(s3);
            }
            for (; j < N; j++)
            {
                float* bj = b + j * ldb;
                Vector256<float> s = default;
                for (int k = 0; k < full; k += 8) s = Fma.MultiplyAdd(Avx.LoadVector256(ar + k), Avx.LoadVector256(bj + k), s);
                if (tail > 0) s = Fma.MultiplyAdd(Avx.MaskLoad(ar + full, mask), Avx.MaskLoad(bj + full, mask), s);
                cr[j] = CpuVecMath.HorizontalSum(s);
            }
        }
    }

    /// <summary>Packs the n rows of length d of a row-major block (row stride ld) transposed into t (d rows of
    /// <paramref name="ldt"/> floats); columns n..ldt−1 are zeroed.</summary>
    public static void PackTransposed(float* src, long ld, int n, int d, float* t, int ldt)
    {
        for (int c = 0; c < d; c++)
        {
            float* tc = t + (long)c * ldt;
            for (int j = n; j < ldt; j++) tc[j] = 0f;
        }
        // 8 source rows at a time: each source row is read once, contiguously, and scattered down 8 columns.
        int j0 = 0;
        for (; j0 + 8 <= n; j0 += 8)
        {
            float* s0 = src + j0 * ld;
            for (int c = 0; c < d; c++)
            {
                float* tc = t + (long)c * ldt + j0;
                tc[0] = s0[c]; tc[1] = s0[ld + c]; tc[2] = s0[2 * ld + c]; tc[3] = s0[3 * ld + c];
                tc[4] = s0[4 * ld + c]; tc[5] = s0[5 * ld + c]; tc[6] = s0[6 * ld + c]; tc[7] = s0[7 * ld + c];
            }
        }
        for (; j0 < n; j0++)
        {
            float* s = src + j0 * ld;
            for (int c = 0; c < d; c++) t[(long)c * ldt + j0] = s[c];
        }
    }
}
