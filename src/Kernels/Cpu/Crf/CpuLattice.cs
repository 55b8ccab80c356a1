using System.Buffers;
using System.Runtime.Intrinsics;

namespace FsrNative.Kernels.Cpu.Crf;

/// <summary>
/// The permutohedral lattice filter on the CPU (float): output (K, N) = s ⊙ L(s ⊙ input) for planar values, the same
/// arithmetic as <see cref="Reference.ReferenceCrf{T}.LatticeFilter"/> in the same order, so the results are
/// bit-identical to it (tested). Four passes, each split over cores:
/// <list type="number">
/// <item>transpose the planar input into point-major rows of Kp = K rounded up to 8 floats (times s);</item>
/// <item>splat as a gather: each vertex sums weight·row over its elements in point order (the tables' gather lists,
/// the order of the reference's sequential scatter), Vector256 over the row, up to four vectors per pass;</item>
/// <item>blur: d+1 passes of new[v] = old[v] + ½(old[n1] + old[n2]) over all vertices (row M is the zero row of
/// missing neighbours), in direction order 0…d, or d…0 for the transpose;</item>
/// <item>slice: each point sums (weight·α)·row over its d+1 vertices, times s, written back planar.</item>
/// </list>
/// No multiply-add fusion, so that the rounding is the reference's. Scratch comes from the shared array pool.
/// </summary>
public static unsafe class CpuLattice
{
    public static void Filter(LatticeTables<float> t, ReadOnlySpan<float> input, Span<float> output, int channels, bool reverse, ReadOnlySpan<float> scale)
    {
        int n = t.Points, d = t.Dims, d1 = d + 1, m = t.Vertices, k = channels;
        if (input.Length != (long)k * n || output.Length != (long)k * n)
            throw new ArgumentException($"lattice filter: values of {input.Length} and output of {output.Length} elements for {k} channels of {n} points");
        if (!scale.IsEmpty && scale.Length != n)
            throw new ArgumentException($"lattice filter: scale of {scale.Length} elements for {n} points");
        if (k == 0) return;
        int kp = (k + 7) & ~7;
        var pool = ArrayPool<float>.Shared;
        var rows = pool.Rent(n * kp);
        var a = pool.Rent((m + 1) * kp);
        var b = pool.Rent((m + 1) * kp);
        try
        {
            fixed (float* pin = input, pout = output, ps = scale, prows = rows, pa = a, pb = b)
            fixed (int* off = t.Offsets, order = t.Order, starts = t.SegmentStarts, nbr = t.Neighbours)
            fixed (float* wts = t.Weights)
            {
                var ctx = new Context
                {
                    In = pin, Out = pout, Scale = scale.IsEmpty ? null : ps, Rows = prows, A = pa, B = pb,
                    Offsets = off, Order = order, Starts = starts, Neighbours = nbr, Weights = wts,
                    N = n, D = d, M = m, K = k, Kp = kp,
                };
                Transpose(ctx);
                Splat(ctx);
                new Span<float>(pa + (long)m * kp, kp).Clear();   // the zero rows
                new Span<float>(pb + (long)m * kp, kp).Clear();
                float* src = pa, dst = pb;
                for (int step = 0; step <= d; step++)
                {
                    Blur(ctx, src, dst, reverse ? d - step : step);
                    float* swap = src; src = dst; dst = swap;
                }
                Slice(ctx, src, LatticeMath.Alpha(d));
            }
        }
        finally
        {
            pool.Return(rows);
            pool.Return(a);
            pool.Return(b);
        }
    }

    struct Context
    {
        public float* In, Out, Scale, Rows, A, B, Weights;
        public int* Offsets, Order, Starts, Neighbours;
        public int N, D, M, K, Kp;
    }

    static void Transpose(Context c)
    {
        CpuParallel.For(c.N, c.Kp, 64, (p0, p1) =>
        {
            int kp = c.Kp, k = c.K, n = c.N;
            for (long p = p0; p < p1; p++)
            {
                float* row = c.Rows + p * kp;
                float s = c.Scale == null ? 1f : c.Scale[p];
                if (c.Scale == null)
                    for (int ch = 0; ch < k; ch++) row[ch] = c.In[(long)ch * n + p];
                else
                    for (int ch = 0; ch < k; ch++) row[ch] = c.In[(long)ch * n + p] * s;
                for (int ch = k; ch < kp; ch++) row[ch] = 0f;
            }
        });
    }

    static void Splat(Context c)
    {
        long work = (long)c.N * (c.D + 1) * c.Kp / Math.Max(1, c.M) + c.Kp;   // average per vertex
        CpuParallel.For(c.M, work, 16, (v0, v1) =>
        {
            int kp = c.Kp, d1 = c.D + 1;
            for (long v = v0; v < v1; v++)
            {
                int s0 = c.Starts[v], s1 = c.Starts[v + 1];
                float* dst = c.A + v * kp;
                for (int cb = 0; cb < kp; cb += 32)
                {
                    int vectors = Math.Min(4, (kp - cb) >> 3);
                    Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
                    for (int i = s0; i < s1; i++)
                    {
                        int e = c.Order[i];
                        var w = Vector256.Create(c.Weights[e]);
                        float* row = c.Rows + (long)(e / d1) * kp + cb;
                        acc0 += w * Vector256.Load(row);
                        if (vectors > 1) acc1 += w * Vector256.Load(row + 8);
                        if (vectors > 2) acc2 += w * Vector256.Load(row + 16);
                        if (vectors > 3) acc3 += w * Vector256.Load(row + 24);
                    }
                    acc0.Store(dst + cb);
                    if (vectors > 1) acc1.Store(dst + cb + 8);
                    if (vectors > 2) acc2.Store(dst + cb + 16);
                    if (vectors > 3) acc3.Store(dst + cb + 24);
                }
            }
        });
    }

    static void Blur(Context c, float* src, float* dst, int j)
    {
        CpuParallel.For(c.M, 3L * c.Kp, 16, (v0, v1) =>
        {
            int kp = c.Kp, m = c.M;
            var half = Vector256.Create(0.5f);
            int* nb = c.Neighbours + (long)j * m * 2;
            for (long v = v0; v < v1; v++)
            {
                float* o = src + v * kp, r = dst + v * kp;
                float* n1 = src + (long)nb[2 * v] * kp, n2 = src + (long)nb[2 * v + 1] * kp;
                for (int ch = 0; ch < kp; ch += 8)
                    (Vector256.Load(o + ch) + half * (Vector256.Load(n1 + ch) + Vector256.Load(n2 + ch))).Store(r + ch);
            }
        });
    }

    static void Slice(Context c, float* values, float alpha)
    {
        CpuParallel.For(c.N, (long)(c.D + 1) * c.Kp, 64, (p0, p1) =>
        {
            int kp = c.Kp, k = c.K, d1 = c.D + 1, n = c.N;
            var accArray = new float[kp];
            fixed (float* acc = accArray)
            for (long p = p0; p < p1; p++)
            {
                for (int ch = 0; ch < kp; ch += 8) Vector256<float>.Zero.Store(acc + ch);
                for (int r = 0; r < d1; r++)
                {
                    long e = p * d1 + r;
                    var w = Vector256.Create(c.Weights[e] * alpha);
                    float* row = values + (long)c.Offsets[e] * kp;
                    for (int ch = 0; ch < kp; ch += 8)
                        (Vector256.Load(acc + ch) + w * Vector256.Load(row + ch)).Store(acc + ch);
                }
                if (c.Scale == null)
                    for (int ch = 0; ch < k; ch++) c.Out[(long)ch * n + p] = acc[ch];
                else
                {
                    float s = c.Scale[p];
                    for (int ch = 0; ch < k; ch++) c.Out[(long)ch * n + p] = acc[ch] * s;
                }
            }
        });
    }
}
