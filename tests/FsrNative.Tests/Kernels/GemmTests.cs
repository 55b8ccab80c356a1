using FsrNative.Kernels;
using FsrNative.Kernels.Cpu;

namespace FsrNative.Tests.Kernels;

/// <summary>
/// The fast CPU SGEMM (packed, direct and threaded paths) against the naive reference, on random inputs: every
/// transpose combination, odd and size-1 shapes, K = 0, padded leading dimensions, beta 0/1/0.5 (beta = 0 with a
/// NaN-filled C: nothing may leak), the fused epilogues, and batches with broadcast (stride 0) operands.
/// Tolerance: |fast − ref| ≤ 1e-5·(K+1)·max|a|·max|b| (≈ 1e-4 relative to K·max|a||b| at these K) plus a little for the epilogue.
/// </summary>
[Trait("Category", "Kernels")]
public sealed unsafe class GemmTests
{
    private static readonly int[] Odd = [1, 2, 3, 5, 6, 7, 8, 13, 16, 17, 31, 33, 97];

    public static TheoryData<bool, bool> Transposes => new() { { false, false }, { false, true }, { true, false }, { true, true } };

    [Theory]
    [MemberData(nameof(Transposes))]
    public void OddShapes_MatchReference(bool transA, bool transB)
    {
        var rng = new Random(transA ? (transB ? 4 : 3) : (transB ? 2 : 1));
        for (int i = 0; i < 120; i++)
        {
            int M = Odd[rng.Next(Odd.Length)], N = Odd[rng.Next(Odd.Length)], K = Odd[rng.Next(Odd.Length)];
            float beta = i % 3 == 0 ? 0f : i % 3 == 1 ? 1f : 0.5f;
            float alpha = i % 2 == 0 ? 1f : -0.75f;
            Check(transA, transB, M, N, K, alpha, beta, pad: i % 4, rng);
        }
    }

    [Theory]
    [InlineData(false, false, 1, 1, 1)]
    [InlineData(true, true, 1, 1, 1)]
    [InlineData(false, false, 1, 1000, 300)]   // a row vector times a matrix (direct path)
    [InlineData(false, true, 1, 1000, 300)]    // Linear with batch 1: dot products
    [InlineData(true, true, 2, 500, 301)]
    [InlineData(false, false, 4, 700, 129)]
    [InlineData(false, false, 1000, 1, 300)]   // matrix times a column
    [InlineData(false, true, 1000, 3, 300)]
    [InlineData(false, false, 85, 85, 85)]     // just above the small-matrix threshold (84³)
    [InlineData(false, false, 84, 84, 83)]     // just below it
    [InlineData(true, false, 83, 84, 84)]
    [InlineData(false, true, 15, 16, 17)]      // transB: just above the tiny threshold (16³)
    [InlineData(false, true, 15, 16, 16)]      // and below it
    [InlineData(false, false, 150, 170, 800)]  // K split into two blocks, M into two blocks
    [InlineData(true, false, 150, 170, 800)]
    [InlineData(false, true, 150, 170, 800)]
    [InlineData(true, true, 150, 170, 800)]
    [InlineData(false, false, 301, 2100, 65)]  // N split into two panels
    [InlineData(false, true, 301, 2100, 65)]
    [InlineData(false, false, 257, 255, 259)]
    [InlineData(true, true, 257, 255, 259)]
    public void LargerShapes_MatchReference(bool transA, bool transB, int M, int N, int K)
    {
        var rng = new Random(M * 7919 + N * 31 + K);
        foreach (float beta in new[] { 0f, 1f, 0.5f })
            Check(transA, transB, M, N, K, 1f, beta, pad: 3, rng);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(1f)]
    [InlineData(0.5f)]
    public void KZero_ScalesC(float beta)
    {
        var rng = new Random(5);
        foreach (var (ta, tb) in new[] { (false, false), (true, true) })
            Check(ta, tb, 7, 9, 0, 1f, beta, pad: 1, rng);
    }

    [Fact]
    public void EmptyOutput_DoesNothing()
    {
        float c = 42f;
        Sgemm.Multiply(false, false, 0, 5, 5, 1f, null, 5, null, 5, 0f, &c, 5);
        Sgemm.Multiply(false, false, 5, 0, 5, 1f, null, 5, null, 1, 0f, &c, 1);
        Assert.Equal(42f, c);
    }

    [Fact]
    public void AlphaZero_DoesNotReadAOrB()
    {
        var a = new float[12]; Array.Fill(a, float.NaN);
        var b = new float[12]; Array.Fill(b, float.NaN);
        var c = new float[9]; Array.Fill(c, 2f);
        fixed (float* pa = a, pb = b, pc = c) Sgemm.Multiply(false, false, 3, 3, 4, 0f, pa, 4, pb, 3, 0.5f, pc, 3);
        Assert.All(c, v => Assert.Equal(1f, v));
    }

    [Fact]
    public void BadLeadingDimension_Throws()
    {
        var buf = new float[16];
        Assert.Throws<ArgumentOutOfRangeException>(() => Call(buf, false, false, 2, 2, 3, lda: -1, ldb: 2, ldc: 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Call(buf, false, true, 2, 2, 3, lda: 3, ldb: -3, ldc: 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Call(buf, false, false, 2, 4, 3, lda: 3, ldb: 4, ldc: 3)); // rows of C overlap
        Call(buf, false, false, 2, 2, 3, lda: 3, ldb: 2, ldc: 2); // valid
        Call(buf, false, false, 1, 4, 3, lda: 3, ldb: 4, ldc: 1); // one row: ldc does not matter
    }

    [Theory]
    [MemberData(nameof(Transposes))]
    public void BroadcastRows_LeadingDimensionZero(bool transA, bool transB)
    {
        // An expanded view: every row of A (or column of op(A) when transposed) is the same, lda = 0; likewise B.
        var rng = new Random(11);
        foreach (var (M, N, K) in new[] { (5, 4, 7), (40, 33, 70), (130, 150, 90) })
        {
            var a = Random(Math.Max(M, K), rng);
            var b = Random(Math.Max(N, K), rng);
            var expected = new float[M * N];
            var actual = new float[M * N];
            fixed (float* pa = a, pb = b, pe = expected, pc = actual)
            {
                SgemmReference.Multiply(transA, transB, M, N, K, 1f, pa, 0, pb, 0, 0f, pe, N);
                Sgemm.Multiply(transA, transB, M, N, K, 1f, pa, 0, pb, 0, 0f, pc, N);
            }
            Compare(expected, actual, 0, M, N, N, K, $"lda = ldb = 0, {M}×{N}×{K} tA={transA} tB={transB}", nanFillOutside: false);
        }
    }

    private static void Call(float[] buf, bool transA, bool transB, int M, int N, int K, int lda, int ldb, int ldc)
    {
        fixed (float* p = buf) Sgemm.Multiply(transA, transB, M, N, K, 1f, p, lda, p, ldb, 0f, p, ldc);
    }

    [Theory]
    [InlineData(GemmEpilogue.Bias)]
    [InlineData(GemmEpilogue.BiasGeluErf)]
    [InlineData(GemmEpilogue.BiasGeluTanh)]
    public void Epilogue_MatchesReference(GemmEpilogue epilogue)
    {
        var rng = new Random((int)epilogue);
        foreach (var (M, N, K) in new[] { (5, 7, 3), (40, 40, 40), (150, 170, 800), (301, 290, 65), (1, 300, 200), (9, 8, 0) })
            foreach (var (ta, tb) in new[] { (false, false), (false, true), (true, false) })
                foreach (float beta in new[] { 0f, 0.5f })
                    Check(ta, tb, M, N, K, 1f, beta, pad: 2, rng, epilogue);
    }

    /// <summary>The fused epilogue runs the standalone GELU op's vector code, so Linear+GELU fused and unfused give
    /// the same bits (every shape class: packed, direct, K = 0, ragged tails).</summary>
    [Theory]
    [InlineData(GemmEpilogue.BiasGeluErf)]
    [InlineData(GemmEpilogue.BiasGeluTanh)]
    public void Epilogue_GeluIsBitIdenticalToTheGeluOp(GemmEpilogue epilogue)
    {
        var rng = new Random(77);
        var op = epilogue == GemmEpilogue.BiasGeluErf ? UnaryOp.GeluErf : UnaryOp.GeluTanh;
        foreach (var (M, N, K) in new[] { (5, 7, 3), (40, 41, 40), (150, 170, 800), (3, 300, 0) })
        {
            var a = Random((long)M * K, rng);
            var b = Random((long)K * N, rng);
            var bias = Random(N, rng);
            var fused = new float[M * N];
            var plain = new float[M * N];
            fixed (float* pa = a, pb = b, pbias = bias, pf = fused, pp = plain)
            {
                Sgemm.Multiply(false, false, M, N, K, 1f, pa, K, pb, N, 0f, pf, N, pbias, epilogue);
                Sgemm.Multiply(false, false, M, N, K, 1f, pa, K, pb, N, 0f, pp, N, pbias, GemmEpilogue.Bias);
            }
            CpuUnary.Forward(op, plain, plain, 0f, 0f);
            for (int i = 0; i < fused.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(fused[i]) == BitConverter.SingleToInt32Bits(plain[i]),
                    $"{epilogue} {M}x{N}x{K} element {i}: fused {fused[i]:R}, unfused {plain[i]:R}");
        }
    }

    [Theory]
    [InlineData(false, false, 6, 33, 17, 29, false)]
    [InlineData(true, true, 6, 33, 17, 29, false)]
    [InlineData(false, true, 5, 40, 40, 16, true)]   // broadcast B (a shared weight)
    [InlineData(true, false, 3, 130, 140, 150, true)] // big enough to be split over threads, batch < 2·threads on 2 cores
    [InlineData(false, false, 12, 64, 64, 64, false)]
    [InlineData(false, false, 1, 7, 9, 11, true)]
    public void Batched_MatchesReference(bool transA, bool transB, int batch, int M, int N, int K, bool broadcastB)
    {
        var rng = new Random(batch * 1000 + M);
        int lda = (transA ? M : K) + 1, ldb = (transB ? K : N) + 2, ldc = N + 3;
        long sA = (long)(transA ? K : M) * lda + 5, sB = broadcastB ? 0 : (long)(transB ? N : K) * ldb + 7, sC = (long)M * ldc + 4;
        var a = Random(sA * batch, rng);
        var b = Random(broadcastB ? (transB ? N : K) * (long)ldb : sB * batch, rng);
        foreach (float beta in new[] { 0f, 0.5f })
        {
            var c0 = Random(sC * batch, rng);
            if (beta == 0) Array.Fill(c0, float.NaN);
            var expected = (float[])c0.Clone();
            var actual = (float[])c0.Clone();
            fixed (float* pa = a, pb = b, pe = expected, pc = actual)
            {
                SgemmReference.MultiplyBatched(transA, transB, batch, M, N, K, 1f, pa, lda, sA, pb, ldb, sB, beta, pe, ldc, sC);
                Sgemm.MultiplyBatched(transA, transB, batch, M, N, K, 1f, pa, lda, sA, pb, ldb, sB, beta, pc, ldc, sC);
            }
            for (int i = 0; i < batch; i++)
                Compare(expected, actual, i * sC, M, N, ldc, K, $"batch {i}/{batch} {M}×{N}×{K} tA={transA} tB={transB} beta={beta}",
                    nanFillOutside: beta == 0);
        }
    }

    private static void Check(bool transA, bool transB, int M, int N, int K, float alpha, float beta, int pad, Random rng,
        GemmEpilogue epilogue = GemmEpilogue.None)
    {
        int lda = Math.Max(1, (transA ? M : K) + pad), ldb = Math.Max(1, (transB ? K : N) + pad), ldc = N + pad;
        var a = Random((long)(transA ? K : M) * lda, rng);
        var b = Random((long)(transB ? N : K) * ldb, rng);
        var bias = Random(N, rng);
        var c0 = Random((long)M * ldc, rng);
        if (beta == 0) Array.Fill(c0, float.NaN); // write-only: NaN must not leak
        var expected = (float[])c0.Clone();
        var actual = (float[])c0.Clone();
        fixed (float* pa = a, pb = b, pe = expected, pc = actual, pbias = bias)
        {
            SgemmReference.Multiply(transA, transB, M, N, K, alpha, pa, lda, pb, ldb, beta, pe, ldc, pbias, epilogue);
            Sgemm.Multiply(transA, transB, M, N, K, alpha, pa, lda, pb, ldb, beta, pc, ldc, pbias, epilogue);
        }
        Compare(expected, actual, 0, M, N, ldc, K, $"{M}×{N}×{K} tA={transA} tB={transB} alpha={alpha} beta={beta} pad={pad} {epilogue}",
            nanFillOutside: beta == 0);
    }

    private static void Compare(float[] expected, float[] actual, long offset, int M, int N, int ldc, int K, string what, bool nanFillOutside)
    {
        // inputs are in [-1, 1): K·max|a|·max|b| ≤ K
        double tol = 1e-5 * (K + 1) + 2e-6;
        for (int m = 0; m < M; m++)
        {
            for (int n = 0; n < ldc; n++)
            {
                long i = offset + (long)m * ldc + n;
                if (n >= N)
                {
                    // padding between rows is never written
                    Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                        $"{what}: padding ({m},{n}) was written");
                    continue;
                }
                float e = expected[i], f = actual[i];
                Assert.False(float.IsNaN(f), $"{what}: NaN at ({m},{n})");
                Assert.True(Math.Abs(e - f) <= tol * (1 + Math.Abs(e)), $"{what}: at ({m},{n}) expected {e}, got {f}");
            }
        }
        _ = nanFillOutside;
    }

    private static float[] Random(long n, Random rng)
    {
        var x = new float[Math.Max(1, n)];
        for (long i = 0; i < n; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }
}

/// <summary>The GEMM's persistent worker team.</summary>
[Trait("Category", "Kernels")]
public sealed class GemmThreadPoolTests
{
    [Fact]
    public async Task ThreadPool_FreshTeams_RunEveryPartOfTheirFirstJob()
    {
        // Regression: a worker that started after the first job was published used to skip it, and the caller waited
        // forever. Start many fresh teams and give each one job at once; a hang fails the test by timeout.
        var run = Task.Run(FreshTeams);
        var first = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(120)));
        Assert.True(first == run, "a GEMM team hung on its first job");
        await run;
    }

    private static unsafe void FreshTeams()
    {
        for (int i = 0; i < 300; i++)
        {
            using var team = new GemmThreadPool(8); // more workers than cores: some start late
            int count = 0;
            team.Run(team.ThreadCount, &CountPart, &count);
            Assert.Equal(team.ThreadCount, count);
            count = 0;
            team.Run(team.ThreadCount + 5, &CountPart, &count); // parts are clamped to the team
            Assert.Equal(team.ThreadCount, count);
        }
    }

    private static unsafe void CountPart(void* ctx, int part, int parts) => Interlocked.Increment(ref *(int*)ctx);
}
