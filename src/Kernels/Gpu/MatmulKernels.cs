// Batched strided GEMM: C(b) = alpha·op(A(b))·op(B(b)) + beta·C(b) for a batch of any rank (the batch index is
// decomposed by a StridedLayout per operand, strides may be 0 for broadcast). C is contiguous (batch, M, N).
// op(A)(m, k) = A[offA + (transA ? k·lda + m : m·lda + k)], op(B)(k, n) likewise with ldb. Beta = 0 means C is
// write-only (never read: it may hold garbage or NaN).
//  * GemmNaive: the reference. Implicitly grouped, one work item per element of C (batch·M·N, grid-stride), k in order.
//  * GemmTiled: the main kernel. Explicitly grouped, 256 threads (16×16) per group, one group per 64×64 tile of C
//    (grid = tilesN·tilesM·batch groups, flattened so any batch size fits); k advances in steps of 16 through shared
//    memory tiles As[16][64] and Bs[16][64] (rows padded to 65 floats against bank conflicts); each thread accumulates 4×4 outputs at rows ty+16i, columns tx+16j
//    (conflict-free shared reads, coalesced stores). Loads are arranged so that consecutive threads read
//    consecutive addresses for both the plain and the transposed operand layouts. Edge tiles are zero-padded.
using ILGPU;

namespace FsrNative.Kernels.Gpu;

/// <summary>The scalar parameters of one GEMM launch (blittable).</summary>
public struct GemmShape
{
    public int M, N, K;
    public int Lda, Ldb;
    /// <summary>1 when op(A) = Aᵀ (A stored K×M with leading dimension Lda).</summary>
    public int TransA;
    /// <summary>1 when op(B) = Bᵀ (B stored N×K with leading dimension Ldb).</summary>
    public int TransB;
    public float Alpha, Beta;
    /// <summary>Number of batch entries (product of the batch shape).</summary>
    public int Batch;
}

public static class MatmulKernels
{
    public const int TileM = 64, TileN = 64, TileK = 16, Threads = 256;

    /// <summary>Row stride of the shared tiles: 65, not 64, so that the transposed-layout stores (16 consecutive threads
    /// writing one column of a tile) fall into different banks.</summary>
    public const int TileStride = TileM + 1;

    /// <summary>Reference GEMM: one thread per C element (total = batch·M·N), plain k loop.</summary>
    [GpuKernel]
    public static void GemmNaive(Index1D index, int total, int step, ArrayView<float> a, StridedLayout batchA, ArrayView<float> b, StridedLayout batchB,
        ArrayView<float> c, GemmShape s)
    {
        for (int p = index; p < total; p += step)
        {
            int n = p % s.N, rest = p / s.N;
            int m = rest % s.M, batch = rest / s.M;
            int offA = batchA.OffsetOf(batch), offB = batchB.OffsetOf(batch);
            float sum = 0f;
            for (int k = 0; k < s.K; k++)
            {
                float av = a[offA + (s.TransA != 0 ? k * s.Lda + m : m * s.Lda + k)];
                float bv = b[offB + (s.TransB != 0 ? n * s.Ldb + k : k * s.Ldb + n)];
                sum += av * bv;
            }
            c[p] = s.Alpha * sum + (s.Beta == 0f ? 0f : s.Beta * c[p]);
        }
    }

    /// <summary>Tiled shared-memory SGEMM: 64×64 C tile per group of 256 threads, 4×4 outputs per thread, k tiles of 16.
    /// Launch with grid = ceil(N/64)·ceil(M/64)·batch groups of exactly <see cref="Threads"/> threads.</summary>
    [GpuKernel(ExplicitlyGrouped = true)]
    public static void GemmTiled(ArrayView<float> a, StridedLayout batchA, ArrayView<float> b, StridedLayout batchB, ArrayView<float> c, GemmShape s)
    {
        var tileA = SharedMemory.Allocate<float>(TileK * TileStride);   // [k][m], rows padded to 65
        var tileB = SharedMemory.Allocate<float>(TileK * TileStride);   // [k][n]
        int tilesN = (s.N + TileN - 1) / TileN, tilesM = (s.M + TileM - 1) / TileM;
        int g = Grid.IdxX;
        int tn = g % tilesN, rest = g / tilesN;
        int tm = rest % tilesM, batch = rest / tilesM;
        if (batch >= s.Batch) return;   // uniform per group
        int t = Group.IdxX;
        int tx = t & 15, ty = t >> 4;
        int m0 = tm * TileM, n0 = tn * TileN;
        int offA = batchA.OffsetOf(batch), offB = batchB.OffsetOf(batch);

        float c00 = 0f, c01 = 0f, c02 = 0f, c03 = 0f;
        float c10 = 0f, c11 = 0f, c12 = 0f, c13 = 0f;
        float c20 = 0f, c21 = 0f, c22 = 0f, c23 = 0f;
        float c30 = 0f, c31 = 0f, c32 = 0f, c33 = 0f;

        for (int k0 = 0; k0 < s.K; k0 += TileK)
        {
            // Stage op(A)[m0.., k0..] (64×16) and op(B)[k0.., n0..] (16×64): 4 elements per thread each.
            for (int q = 0; q < 4; q++)
            {
                int e = t + q * Threads;
                int mm, kk;
                if (s.TransA != 0) { mm = e & 63; kk = e >> 6; }   // A stored (k, m): consecutive threads, consecutive m
                else { mm = e >> 4; kk = e & 15; }                 // A stored (m, k): consecutive threads, consecutive k
                int gm = m0 + mm, gk = k0 + kk;
                float v = 0f;
                if (gm < s.M && gk < s.K) v = a[offA + (s.TransA != 0 ? gk * s.Lda + gm : gm * s.Lda + gk)];
                tileA[kk * TileStride + mm] = v;

                int nn;
                if (s.TransB != 0) { nn = e >> 4; kk = e & 15; }   // B stored (n, k)
                else { nn = e & 63; kk = e >> 6; }                 // B stored (k, n)
                int gn = n0 + nn;
                gk = k0 + kk;
                float w = 0f;
                if (gk < s.K && gn < s.N) w = b[offB + (s.TransB != 0 ? gn * s.Ldb + gk : gk * s.Ldb + gn)];
                tileB[kk * TileStride + nn] = w;
            }
            Group.Barrier();
            for (int kk = 0; kk < TileK; kk++)
            {
                int ra = kk * TileStride + ty, rb = kk * TileStride + tx;
                float a0 = tileA[ra], a1 = tileA[ra + 16], a2 = tileA[ra + 32], a3 = tileA[ra + 48];
                float b0 = tileB[rb], b1 = tileB[rb + 16], b2 = tileB[rb + 32], b3 = tileB[rb + 48];
                c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
                c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
                c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
                c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
            }
            Group.Barrier();
        }

        int cBase = batch * s.M * s.N;
        int r0 = m0 + ty, col0 = n0 + tx;
        Store(c, cBase, s, r0, col0, c00, c01, c02, c03);
        Store(c, cBase, s, r0 + 16, col0, c10, c11, c12, c13);
        Store(c, cBase, s, r0 + 32, col0, c20, c21, c22, c23);
        Store(c, cBase, s, r0 + 48, col0, c30, c31, c32, c33);
    }

    /// <summary>Writes one thread's four outputs of row <paramref name="row"/> (columns col0 + 16j) with alpha/beta.</summary>
    static void Store(ArrayView<float> c, int cBase, GemmShape s, int row, int col0, float v0, float v1, float v2, float v3)
    {
        if (row >= s.M) return;
        int rowBase = cBase + row * s.N;
        StoreOne(c, rowBase, s, col0, v0);
        StoreOne(c, rowBase, s, col0 + 16, v1);
        StoreOne(c, rowBase, s, col0 + 32, v2);
        StoreOne(c, rowBase, s, col0 + 48, v3);
    }

    static void StoreOne(ArrayView<float> c, int rowBase, GemmShape s, int col, float v)
    {
        if (col >= s.N) return;
        int p = rowBase + col;
        c[p] = s.Alpha * v + (s.Beta == 0f ? 0f : s.Beta * c[p]);
    }
}
