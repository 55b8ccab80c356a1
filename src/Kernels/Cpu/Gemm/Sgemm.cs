using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FsrNative.Kernels.Cpu;

/// <summary>
/// CPU single-precision GEMM. Row-major C[M×N] = alpha · op(A)[M×K] · op(B)[K×N] + beta · C.
/// op(A) = A (element (m,k) at A[m*lda + k]) or, when transA, Aᵀ (element (m,k) at A[k*lda + m]); likewise B.
/// beta == 0 means C is write-only (never read, so NaNs in C do not leak); alpha == 0 or K == 0 gives C = beta·C
/// without reading A or B. lda and ldb may be any value ≥ 0 (0 broadcasts one row, as an expanded tensor view does);
/// ldc must be ≥ N (when M &gt; 1).
/// <para>
/// Design (BLIS): B is packed in KC×NC panels of NR=16-wide column strips, A in MC×KC blocks of MR=6-row strips, both
/// into 64-byte aligned per-thread buffers that are reused across calls; one 6×16 micro-kernel (12 ymm accumulators,
/// FMA, k unrolled ×4) does all the arithmetic, whatever the transposes (the packing absorbs them); edge tiles are
/// zero-padded in the packed buffers and written back through a small staging tile. Big products are split over
/// <see cref="GemmThreadPool"/> (the caller plus persistent workers) along M or N (by a cost model), each part an
/// independent sub-GEMM. Small products (M·N·K &lt; 84³ with op(B) = B, &lt; 16³ with Bᵀ) and skinny ones (M ≤ 4
/// plain, M ≤ 2 with transB) go through a direct register-tiled path without packing. See SgemmReference for the plain definition.
/// </para>
/// </summary>
public static unsafe partial class Sgemm
{
    /// <summary>Row-major C = alpha · op(A)·op(B) + beta · C. See the class summary for the contract.</summary>
    public static void Multiply(bool transA, bool transB, int M, int N, int K, float alpha,
        float* A, int lda, float* B, int ldb, float beta, float* C, int ldc)
        => Multiply(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, null, GemmEpilogue.None);

    /// <summary>
    /// Row-major C[m,n] = act(alpha · (op(A)·op(B))[m,n] + beta · C[m,n] + bias[n]), with act and the use of bias chosen by
    /// <paramref name="epilogue"/>. bias (N floats) may be null, meaning no bias (e.g. a plain GELU after the product).
    /// </summary>
    public static void Multiply(bool transA, bool transB, int M, int N, int K, float alpha,
        float* A, int lda, float* B, int ldb, float beta, float* C, int ldc, float* bias, GemmEpilogue epilogue)
    {
        Validate(transA, transB, M, N, K, lda, ldb, ldc, A, B, C);
        if (M == 0 || N == 0) return;
        if (epilogue == GemmEpilogue.None) bias = null;
        var g = new Problem
        {
            TransA = transA, TransB = transB, M = M, N = N, K = K, Alpha = alpha, A = A, Lda = lda, B = B, Ldb = ldb,
            Beta = beta, C = C, Ldc = ldc, Bias = bias, Epilogue = epilogue,
        };
        Solve(&g, GemmThreadPool.Shared.ThreadCount);
    }

    /// <summary>
    /// A batch of independent products: product i reads A + i·strideA, B + i·strideB and writes C + i·strideC (element
    /// strides; strideA or strideB may be 0 for a broadcast operand). Small products run in parallel across the batch,
    /// large ones one after another, each split over the threads.
    /// </summary>
    public static void MultiplyBatched(bool transA, bool transB, int batch, int M, int N, int K, float alpha,
        float* A, int lda, long strideA, float* B, int ldb, long strideB, float beta, float* C, int ldc, long strideC)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        Validate(transA, transB, M, N, K, lda, ldb, ldc, A, B, C);
        if (batch == 0 || M == 0 || N == 0) return;
        var g = new Problem
        {
            TransA = transA, TransB = transB, M = M, N = N, K = K, Alpha = alpha, A = A, Lda = lda, B = B, Ldb = ldb,
            Beta = beta, C = C, Ldc = ldc, Epilogue = GemmEpilogue.None,
        };
        int threads = GemmThreadPool.Shared.ThreadCount;
        long work = (long)M * N * Math.Max(K, 1);
        // Across the batch when every thread gets the same number of products, or when there are many of them, or when
        // each is too small to split well; otherwise one product at a time with all threads on it.
        bool acrossBatch = threads > 1 && batch >= threads &&
                           (batch % threads == 0 || batch >= 4 * threads || work < ParallelThreshold * 4);
        if (acrossBatch)
        {
            var job = new BatchJob { P = g, Batch = batch, StrideA = strideA, StrideB = strideB, StrideC = strideC };
            GemmThreadPool.Shared.Run(Math.Min(threads, batch), &RunBatchPart, &job);
            return;
        }
        for (int i = 0; i < batch; i++)
        {
            var gi = g;
            gi.A = A + i * strideA;
            gi.B = B + i * strideB;
            gi.C = C + i * strideC;
            Solve(&gi, threads);
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Dispatch

    /// <summary>Below this M·N·K a product runs on one thread.</summary>
    internal static long ParallelThreshold = 96L * 96 * 96;

    /// <summary>Below this M·N·K a product with op(B) = B goes through the direct (unpacked) path.</summary>
    internal static long SmallThreshold = 84L * 84 * 84;

    /// <summary>Below this M·N·K a product with op(B) = Bᵀ goes through the direct (dot-product) path.</summary>
    internal static long TinyThreshold = 16L * 16 * 16;

    internal struct Problem
    {
        public bool TransA, TransB;
        public int M, N, K;
        public float Alpha, Beta;
        public float* A, B, C, Bias;
        public int Lda, Ldb, Ldc;
        public GemmEpilogue Epilogue;
    }

    private struct BatchJob
    {
        public Problem P;
        public int Batch;
        public long StrideA, StrideB, StrideC;
    }

    private static void Validate(bool transA, bool transB, int M, int N, int K, int lda, int ldb, int ldc,
        float* A, float* B, float* C)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(M);
        ArgumentOutOfRangeException.ThrowIfNegative(N);
        ArgumentOutOfRangeException.ThrowIfNegative(K);
        // A and B are only read, so any non-negative leading dimension is valid: 0 (or less than the row length) is a
        // broadcast or overlapping view, as the tensor layer makes for expanded dimensions. C is written, so its rows
        // must not overlap.
        ArgumentOutOfRangeException.ThrowIfNegative(lda);
        ArgumentOutOfRangeException.ThrowIfNegative(ldb);
        if (M > 1 && ldc < N)
            throw new ArgumentOutOfRangeException(nameof(ldc), ldc, $"ldc must be ≥ N = {N}: rows of C may not overlap.");
        if (M > 0 && N > 0)
        {
            if (C == null) throw new ArgumentNullException(nameof(C));
            if (K > 0 && (A == null || B == null)) throw new ArgumentNullException(A == null ? nameof(A) : nameof(B));
        }
    }

    private static void RunBatchPart(void* ctx, int part, int parts)
    {
        var job = (BatchJob*)ctx;
        int lo = (int)((long)job->Batch * part / parts), hi = (int)((long)job->Batch * (part + 1) / parts);
        for (int i = lo; i < hi; i++)
        {
            var gi = job->P;
            gi.A += i * job->StrideA;
            gi.B += i * job->StrideB;
            gi.C += i * job->StrideC;
            Solve(&gi, 1);
        }
    }

    internal static bool Accelerated => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>Solves one product with up to <paramref name="threads"/> threads.</summary>
    internal static void Solve(Problem* g, int threads)
    {
        if (g->K == 0 || g->Alpha == 0)
        {
            ScaleAndEpilogue(g);
            return;
        }
        if (!Accelerated)
        {
            PortableGemm(g);
            return;
        }
        long work = (long)g->M * g->N * g->K;
        // Measured on 1 thread (the project machine, a Zen 4 class EPYC): the direct 4×16 kernel beats packing up to
        // ≈80³ when op(B) = B; the dot-product kernel for op(B) = Bᵀ wins only for GEMV-like rows and tiny products.
        bool direct = g->TransB ? g->M <= 2 || work < TinyThreshold : g->M <= 4 || work < SmallThreshold;
        if (threads > 1 && work >= ParallelThreshold)
        {
            var split = new SplitJob { P = *g, Direct = direct };
            int tilesM = (g->M + MR - 1) / MR, tilesN = (g->N + NR - 1) / NR;
            split.SplitM = !direct && SplitAlongM(g->M, g->N, g->K, threads);
            int tiles = split.SplitM ? tilesM : tilesN;
            int parts = Math.Min(threads, tiles);
            if (parts > 1)
            {
                GemmThreadPool.Shared.Run(parts, &RunSplitPart, &split);
                return;
            }
        }
        if (direct) DirectGemm(g);
        else PackedGemm(g);
    }

    /// <summary>
    /// Whether to split a packed product along M (each thread packs all of B and its rows of A) or along N (all of A,
    /// its columns of B). Cost per thread, in cycles: its tiles (partial ones cost as full) × 6K (12 FMAs per k, 2 per
    /// cycle) plus ~0.4 cycle per packed element; ties go to M.
    /// </summary>
    internal static bool SplitAlongM(int M, int N, int K, int threads)
    {
        long tilesM = (M + MR - 1) / MR, tilesN = (N + NR - 1) / NR;
        long nc = RoundUp(NC, NR);
        long Panels(long n) => (n + nc - 1) / nc;
        double costM = CeilDiv(tilesM, threads) * tilesN * 6.0 * K
                       + 0.4 * ((double)CeilDiv(tilesM, threads) * MR * K * Panels(N) + (double)K * N);
        double costN = tilesM * CeilDiv(tilesN, threads) * 6.0 * K
                       + 0.4 * ((double)M * K * Panels(CeilDiv(tilesN, threads) * NR) + (double)K * CeilDiv(tilesN, threads) * NR);
        return tilesN < threads || costM <= costN;
    }

    private static long CeilDiv(long a, long b) => (a + b - 1) / b;

    private struct SplitJob
    {
        public Problem P;
        public bool SplitM, Direct;
    }

    /// <summary>Part <paramref name="part"/> of <paramref name="parts"/>: a band of whole MR-row (or NR-column) tiles.</summary>
    private static void RunSplitPart(void* ctx, int part, int parts)
    {
        var job = (SplitJob*)ctx;
        var g = job->P;
        if (job->SplitM)
        {
            int tiles = (g.M + MR - 1) / MR;
            int lo = Math.Min(g.M, (int)((long)tiles * part / parts) * MR);
            int hi = Math.Min(g.M, (int)((long)tiles * (part + 1) / parts) * MR);
            if (hi <= lo) return;
            g.A += g.TransA ? lo : (long)lo * g.Lda;
            g.C += (long)lo * g.Ldc;
            g.M = hi - lo;
        }
        else
        {
            int tiles = (g.N + NR - 1) / NR;
            int lo = Math.Min(g.N, (int)((long)tiles * part / parts) * NR);
            int hi = Math.Min(g.N, (int)((long)tiles * (part + 1) / parts) * NR);
            if (hi <= lo) return;
            g.B += g.TransB ? (long)lo * g.Ldb : lo;
            g.C += lo;
            if (g.Bias != null) g.Bias += lo;
            g.N = hi - lo;
        }
        if (job->Direct) DirectGemm(&g);
        else PackedGemm(&g);
    }

    /// <summary>C = act(beta·C + bias): the K = 0 / alpha = 0 case. beta = 0 writes zeros without reading C.</summary>
    private static void ScaleAndEpilogue(Problem* g)
    {
        for (int m = 0; m < g->M; m++)
        {
            float* c = g->C + (long)m * g->Ldc;
            if (g->Beta == 0) new Span<float>(c, g->N).Clear();
            else if (g->Beta != 1) for (int n = 0; n < g->N; n++) c[n] *= g->Beta;
            GemmMath.ApplyEpilogueRow(c, g->Bias, g->N, g->Epilogue);
        }
    }

    /// <summary>Fallback without AVX2/FMA: a row-times-panel loop the JIT can auto-vectorise; correct, not fast.</summary>
    private static void PortableGemm(Problem* g)
    {
        int M = g->M, N = g->N, K = g->K;
        var row = new float[N];
        for (int m = 0; m < M; m++)
        {
            Array.Clear(row);
            for (int k = 0; k < K; k++)
            {
                float a = g->TransA ? g->A[(long)k * g->Lda + m] : g->A[(long)m * g->Lda + k];
                if (g->TransB) for (int n = 0; n < N; n++) row[n] += a * g->B[(long)n * g->Ldb + k];
                else
                {
                    float* b = g->B + (long)k * g->Ldb;
                    for (int n = 0; n < N; n++) row[n] += a * b[n];
                }
            }
            float* c = g->C + (long)m * g->Ldc;
            for (int n = 0; n < N; n++) c[n] = g->Beta == 0 ? g->Alpha * row[n] : g->Alpha * row[n] + g->Beta * c[n];
            GemmMath.ApplyEpilogueRow(c, g->Bias, N, g->Epilogue);
        }
    }
}
