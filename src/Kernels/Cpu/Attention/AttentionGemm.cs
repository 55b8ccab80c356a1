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
/// <item><see cref="DotRows"/>: C(r, j) = a_r·b_j for row-major a and b (a product with Bᵀ and no packing), eight
/// dot products at a time, reduced together (<see cref="Sum8"/>): for short query blocks, where packing Bᵀ would cost
/// more than the product.</item>
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

    /// <summary>C(r, j) = scale·Σ_k a[r·lda + k]·b[j·ldb + k] for r &lt; M, j &lt; N (row-major a and b, k contiguous).</summary>
    public static void DotRows(int M, int N, int K, float* a, long lda, float* b, long ldb, float* c, long ldc, float scale = 1f)
    {
        if (!CpuVecMath.IsSupported)
        {
            for (int r = 0; r < M; r++)
                for (int j = 0; j < N; j++)
                {
                    float s = 0f;
                    for (int k = 0; k < K; k++) s += a[r * lda + k] * b[j * ldb + k];
                    c[r * ldc + j] = s * scale;
                }
            return;
        }
        int full = K & ~7, tail = K - full;
        var mask = CpuVecMath.TailMask(tail);
        var vscale = Vector256.Create(scale);
        for (int r = 0; r < M; r++)
        {
            float* ar = a + r * lda, cr = c + r * ldc;
            int j = 0;
            for (; j + 8 <= N; j += 8)
            {
                float* b0 = b + j * ldb;
                Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
                for (int k = 0; k < full; k += 8)
                {
                    var x = Avx.LoadVector256(ar + k);
                    float* bk = b0 + k;
                    s0 = Fma.MultiplyAdd(x, Avx.LoadVector256(bk), s0);
                    s1 = Fma.MultiplyAdd(x, Avx.LoadVector256(bk + ldb), s1);
                    s2 = Fma.MultiplyAdd(x, Avx.LoadVector256(bk + 2 * ldb), s2);
                    s3 = Fma.MultiplyAdd(x, Avx.LoadVector256(bk + 3 * ldb), s3);
                    s4 = Fma.MultiplyAdd(x, Avx.LoadVector256(bk + 4 * ldb), s4);
                    s5 = Fma.MultiplyAdd(x, Avx.LoadVector256(bk + 5 * ldb), s5);
                    s6 = Fma.MultiplyAdd(x, Avx.LoadVector256(bk + 6 * ldb), s6);
                    s7 = Fma.MultiplyAdd(x, Avx.LoadVector256(bk + 7 * ldb), s7);
                }
                if (tail > 0)
                {
                    var x = Avx.MaskLoad(ar + full, mask);
                    float* bk = b0 + full;
                    s0 = Fma.MultiplyAdd(x, Avx.MaskLoad(bk, mask), s0);
                    s1 = Fma.MultiplyAdd(x, Avx.MaskLoad(bk + ldb, mask), s1);
                    s2 = Fma.MultiplyAdd(x, Avx.MaskLoad(bk + 2 * ldb, mask), s2);
                    s3 = Fma.MultiplyAdd(x, Avx.MaskLoad(bk + 3 * ldb, mask), s3);
                    s4 = Fma.MultiplyAdd(x, Avx.MaskLoad(bk + 4 * ldb, mask), s4);
                    s5 = Fma.MultiplyAdd(x, Avx.MaskLoad(bk + 5 * ldb, mask), s5);
                    s6 = Fma.MultiplyAdd(x, Avx.MaskLoad(bk + 6 * ldb, mask), s6);
                    s7 = Fma.MultiplyAdd(x, Avx.MaskLoad(bk + 7 * ldb, mask), s7);
                }
                Avx.Store(cr + j, Avx.Multiply(Sum8(s0, s1, s2, s3, s4, s5, s6, s7), vscale));
            }
            for (; j < N; j++)
            {
                float* bj = b + j * ldb;
                Vector256<float> s = default;
                for (int k = 0; k < full; k += 8) s = Fma.MultiplyAdd(Avx.LoadVector256(ar + k), Avx.LoadVector256(bj + k), s);
                if (tail > 0) s = Fma.MultiplyAdd(Avx.MaskLoad(ar + full, mask), Avx.MaskLoad(bj + full, mask), s);
                cr[j] = CpuVecMath.HorizontalSum(s) * scale;
            }
        }
    }

    /// <summary>The eight horizontal sums of s0…s7 as one vector (lane i = Σ lanes of s_i), by a fixed tree of
    /// pairwise adds: hadd pairs within 128-bit halves, then the two halves added.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Sum8(Vector256<float> s0, Vector256<float> s1, Vector256<float> s2, Vector256<float> s3,
        Vector256<float> s4, Vector256<float> s5, Vector256<float> s6, Vector256<float> s7)
    {
        var h01 = Avx.HorizontalAdd(Avx.HorizontalAdd(s0, s1), Avx.HorizontalAdd(s2, s3));   // [0 1 2 3 | 0 1 2 3] partial
        var h23 = Avx.HorizontalAdd(Avx.HorizontalAdd(s4, s5), Avx.HorizontalAdd(s6, s7));   // [4 5 6 7 | 4 5 6 7] partial
        return Avx.Add(Avx.Permute2x128(h01, h23, 0x20), Avx.Permute2x128(h01, h23, 0x31));
    }

    /// <summary>Packs the n rows of length d of a row-major block (row stride ld) transposed and multiplied by
    /// <paramref name="scale"/> into t (d rows of <paramref name="ldt"/> floats); columns n..ldt−1 are zeroed.</summary>
    public static void PackTransposed(float* src, long ld, int n, int d, float* t, int ldt, float scale = 1f)
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
                tc[0] = s0[c] * scale; tc[1] = s0[ld + c] * scale; tc[2] = s0[2 * ld + c] * scale; tc[3] = s0[3 * ld + c] * scale;
                tc[4] = s0[4 * ld + c] * scale; tc[5] = s0[5 * ld + c] * scale; tc[6] = s0[6 * ld + c] * scale; tc[7] = s0[7 * ld + c] * scale;
            }
        }
        for (; j0 < n; j0++)
        {
            float* s = src + j0 * ld;
            for (int c = 0; c < d; c++) t[(long)c * ldt + j0] = s[c] * scale;
        }
    }
}
