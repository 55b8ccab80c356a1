using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FsrNative.Kernels.Cpu;

/// <summary>
/// softmax / log_softmax over the l axis of a contiguous (outer, l, inner) block, and their backward.
/// <para>Row case (inner == 1), per row: max (4 × Vector256), then exp(x − max) fused with its sum (written to y for
/// softmax, only summed for log_softmax), then one scaling pass (y ·= 1/Σ, or y = x − (max + log Σ)); a row is
/// in L1/L2 after the first pass, so memory sees one read of x and one write of y. Rows are split over cores.
/// Column case (inner &gt; 1): the same three passes on 64-lane chunks of inner, walking down l.</para>
/// <para>Special values as PyTorch: −∞ entries give 0 (log: −∞); a row of all −∞ gives NaN; any NaN makes the row NaN.
/// Sums over l are blocked (1024-element blocks of 32 lanes), so their relative error stays ≈ 1e-7 for long rows.</para>
/// </summary>
public static unsafe class CpuSoftmax
{
    const int Chunk = 64;

    // ------------------------------------------------------------------ reference (scalar)

    /// <summary>Scalar reference of <see cref="Forward"/> (double sums).</summary>
    public static void ForwardReference(ReadOnlySpan<float> x, Span<float> y, int outer, int l, int inner, bool log)
    {
        Check(x.Length, y.Length, outer, l, inner);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int b = o * l * inner + i;
                float max = float.NegativeInfinity;
                for (int j = 0; j < l; j++) max = ScalarMath.Binary(BinaryOp.Maximum, max, x[b + j * inner]);
                double sum = 0;
                for (int j = 0; j < l; j++) sum += MathF.Exp(x[b + j * inner] - max);
                if (log)
                {
                    float lse = max + (float)Math.Log(sum);
                    for (int j = 0; j < l; j++) y[b + j * inner] = x[b + j * inner] - lse;
                }
                else
                    for (int j = 0; j < l; j++) y[b + j * inner] = (float)(MathF.Exp(x[b + j * inner] - max) / sum);
            }
    }

    /// <summary>Scalar reference of <see cref="Backward"/> (double sums).</summary>
    public static void BackwardReference(ReadOnlySpan<float> y, ReadOnlySpan<float> gy, Span<float> gx, int outer, int l, int inner, bool log)
    {
        Check(y.Length, gx.Length, outer, l, inner);
        if (gy.Length != y.Length) throw new ArgumentException("CpuSoftmax.Backward: gy length differs from y.", nameof(gy));
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int b = o * l * inner + i;
                double s = 0;
                for (int j = 0; j < l; j++) s += log ? gy[b + j * inner] : (double)gy[b + j * inner] * y[b + j * inner];
                float sf = (float)s;
                for (int j = 0; j < l; j++)
                {
                    int k = b + j * inner;
                    gx[k] = log ? gy[k] - MathF.Exp(y[k]) * sf : y[k] * (gy[k] - sf);
                }
            }
    }

    // ------------------------------------------------------------------ public fast API

    /// <summary>softmax (log = false) or log_softmax (log = true) over l; x and y may be the same memory.</summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, int outer, int l, int inner, bool log)
    {
        Check(x.Length, y.Length, outer, l, inner);
        if (x.Length == 0) return;
        if (!CpuVecMath.IsSupported) { ForwardReference(x, y, outer, l, inner, log); return; }
        fixed (float* px0 = x, py0 = y)
        {
            float* px = px0, py = py0;
            bool nt = 4L * y.Length >= CpuKernelSettings.StreamingStoreMinBytes;
            if (inner == 1)
                CpuParallel.For(outer, 4L * l, 1, (s, e) => ForwardRows(px, py, s, e, l, log, nt));
            else
            {
                int chunks = (inner + Chunk - 1) / Chunk;
                CpuParallel.For((long)outer * chunks, 4L * l * Math.Min(inner, Chunk), 1, (s, e) =>
                {
                    for (long t = s; t < e; t++)
                    {
                        long o = t / chunks;
                        int i0 = (int)(t % chunks) * Chunk;
                        long off = o * l * inner + i0;
                        ForwardColumns(px + off, py + off, l, inner, Math.Min(Chunk, inner - i0), log);
                    }
                });
            }
        }
    }

    /// <summary>Gradient of <see cref="Forward"/> given its output y: softmax gx = y·(gy − Σ gy·y);
    /// log_softmax gx = gy − e^y·Σ gy (PyTorch's formulas). gx may be the same memory as gy.</summary>
    public static void Backward(ReadOnlySpan<float> y, ReadOnlySpan<float> gy, Span<float> gx, int outer, int l, int inner, bool log)
    {
        Check(y.Length, gx.Length, outer, l, inner);
        if (gy.Length != y.Length) throw new ArgumentException("CpuSoftmax.Backward: gy length differs from y.", nameof(gy));
        if (y.Length == 0) return;
        if (!CpuVecMath.IsSupported) { BackwardReference(y, gy, gx, outer, l, inner, log); return; }
        fixed (float* py0 = y, pg0 = gy, pgx0 = gx)
        {
            float* py = py0, pg = pg0, pgx = pgx0;
            bool nt = 4L * gx.Length >= CpuKernelSettings.StreamingStoreMinBytes;
            if (inner == 1)
                CpuParallel.For(outer, 3L * l, 1, (s, e) =>
                {
                    for (long o = s; o < e; o++) BackwardRow(py + o * l, pg + o * l, pgx + o * l, l, log, nt);
                });
            else
            {
                int chunks = (inner + Chunk - 1) / Chunk;
                CpuParallel.For((long)outer * chunks, 3L * l * Math.Min(inner, Chunk), 1, (s, e) =>
                {
                    for (long t = s; t < e; t++)
                    {
                        long o = t / chunks;
                        int i0 = (int)(t % chunks) * Chunk;
                        long off = o * l * inner + i0;
                        BackwardColumns(py + off, pg + off, pgx + off, l, inner, Math.Min(Chunk, inner - i0), log);
                    }
                });
            }
        }
    }

    // ------------------------------------------------------------------ row kernels

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float RowMax(float* x, int n)
    {
        var ninf = Vector256.Create(float.NegativeInfinity);
        var m0 = ninf; var m1 = ninf; var m2 = ninf; var m3 = ninf;
        int i = 0;
        for (; i <= n - 32; i += 32)
        {
            m0 = Avx.Max(m0, Avx.LoadVector256(x + i));
            m1 = Avx.Max(m1, Avx.LoadVector256(x + i + 8));
            m2 = Avx.Max(m2, Avx.LoadVector256(x + i + 16));
            m3 = Avx.Max(m3, Avx.LoadVector256(x + i + 24));
        }
        for (; i <= n - 8; i += 8) m0 = Avx.Max(m0, Avx.LoadVector256(x + i));
        if (i < n) m1 = Avx.Max(m1, Avx.BlendVariable(ninf, CpuVecMath.LoadTail(x + i, n - i), CpuVecMath.TailMask(n - i)));
        // A NaN may or may not survive Avx.Max; either way exp(NaN − m) or x − NaN makes the sum, and so the row, NaN.
        return CpuVecMath.HorizontalMax(Avx.Max(Avx.Max(m0, m1), Avx.Max(m2, m3)));
    }

    /// <summary>Σ exp(x − max), also storing the exps to y when y != null. Blocked: 1024-element blocks summed in
    /// 32 lanes, block sums added into a running vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static float ExpSum(float* x, float* y, int n, float max)
    {
        var m = Vector256.Create(max);
        var total = Vector256<float>.Zero;
        int i = 0;
        while (i < n)
        {
            int end = Math.Min(n, i + 1024);
            // One exp per iteration (unrolled copies made the JIT spill); two accumulators hide the add latency.
            var s0 = Vector256<float>.Zero; var s1 = s0; var s2 = s0; var s3 = s0;
            for (; i <= end - 16; i += 16)
            {
                var e0 = CpuVecMath.ExpNonPositive(Avx.Subtract(Avx.LoadVector256(x + i), m));
                if (y != null) Avx.Store(y + i, e0);
                s0 = Avx.Add(s0, e0);
                var e1 = CpuVecMath.ExpNonPositive(Avx.Subtract(Avx.LoadVector256(x + i + 8), m));
                if (y != null) Avx.Store(y + i + 8, e1);
                s2 = Avx.Add(s2, e1);
            }
            for (; i <= end - 8; i += 8)
            {
                var e = CpuVecMath.ExpNonPositive(Avx.Subtract(Avx.LoadVector256(x + i), m));
                if (y != null) Avx.Store(y + i, e);
                s0 = Avx.Add(s0, e);
            }
            if (i < end)
            {
                int r = end - i;
                var mask = CpuVecMath.TailMask(r);
                var e = Avx.And(mask, CpuVecMath.ExpNonPositive(Avx.Subtract(CpuVecMath.LoadTail(x + i, r), m)));
                if (y != null) CpuVecMath.StoreTail(y + i, e, r);
                s1 = Avx.Add(s1, e);
                i = end;
            }
            total = Avx.Add(total, Avx.Add(Avx.Add(s0, s1), Avx.Add(s2, s3)));
        }
        return CpuVecMath.HorizontalSum(total);
    }

    /// <summary>Rows [s, e). softmax keeps each row's exps in an L1 scratch buffer (rows up to 8192) and writes y once,
    /// scaled; with <paramref name="nt"/> (see <see cref="CpuKernelSettings.StreamingStoreMinBytes"/>) that write is a
    /// streaming store, so y's lines are never read from memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    static void ForwardRows(float* x, float* y, long s, long e, int l, bool log, bool nt)
    {
        float* scratch = null;
        if (!log && l <= ScratchMax)
        {
            float* buf = stackalloc float[ScratchMax + 8];
            scratch = (float*)(((nint)buf + 31) & ~(nint)31);
        }
        for (long o = s; o < e; o++) ForwardRow(x + o * l, y + o * l, l, log, scratch, nt);
    }

    const int ScratchMax = 8192;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void ForwardRow(float* x, float* y, int n, bool log, float* scratch, bool nt)
    {
        float max = RowMax(x, n);
        if (!log)
        {
            if (scratch != null)
            {
                float sum = ExpSum(x, scratch, n, max);
                CpuUnary.Map(new Scale(1f / sum), scratch, y, n, nt);
            }
            else
            {
                float sum = ExpSum(x, y, n, max);
                CpuUnary.Map(new Scale(1f / sum), y, y, n);
            }
        }
        else
        {
            float sum = ExpSum(x, null, n, max);
            float lse = max + MathF.Log(sum);
            CpuUnary.Map(new Shift(lse), x, y, n, nt);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void BackwardRow(float* y, float* gy, float* gx, int n, bool log, bool nt)
    {
        // s = Σ gy·y (softmax) or Σ gy (log_softmax), blocked like ExpSum.
        var total = Vector256<float>.Zero;
        int i = 0;
        while (i < n)
        {
            int end = Math.Min(n, i + 1024);
            var s0 = Vector256<float>.Zero; var s1 = s0;
            for (; i <= end - 16; i += 16)
            {
                var g0 = Avx.LoadVector256(gy + i);
                var g1 = Avx.LoadVector256(gy + i + 8);
                if (log) { s0 = Avx.Add(s0, g0); s1 = Avx.Add(s1, g1); }
                else { s0 = Fma.MultiplyAdd(g0, Avx.LoadVector256(y + i), s0); s1 = Fma.MultiplyAdd(g1, Avx.LoadVector256(y + i + 8), s1); }
            }
            for (; i < end; i += 8)
            {
                int r = Math.Min(8, end - i);
                var g = r == 8 ? Avx.LoadVector256(gy + i) : CpuVecMath.LoadTail(gy + i, r);
                if (log) s0 = Avx.Add(s0, g);
                else s0 = Fma.MultiplyAdd(g, r == 8 ? Avx.LoadVector256(y + i) : CpuVecMath.LoadTail(y + i, r), s0);
            }
            i = end;
            total = Avx.Add(total, Avx.Add(s0, s1));
        }
        float sum = CpuVecMath.HorizontalSum(total);
        if (log) CpuUnary.Map2(new LogSoftmaxGrad(sum), y, gy, gx, n, nt);
        else CpuUnary.Map2(new SoftmaxGrad(sum), y, gy, gx, n, nt);
    }

    // ------------------------------------------------------------------ column kernels (w ≤ 64 lanes of inner)

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void ForwardColumns(float* x, float* y, int l, int stride, int w, bool log)
    {
        int nv = (w + 7) / 8;
        var lastMask = CpuVecMath.TailMask(w - 8 * (nv - 1));
        var max = stackalloc Vector256<float>[nv];
        var sum = stackalloc Vector256<float>[nv];
        for (int k = 0; k < nv; k++) { max[k] = Vector256.Create(float.NegativeInfinity); sum[k] = default; }
        for (int j = 0; j < l; j++)
        {
            float* p = x + (long)j * stride;
            for (int k = 0; k < nv; k++) max[k] = Avx.Max(max[k], Load(p + 8 * k, k == nv - 1, lastMask));
        }
        for (int j = 0; j < l; j++)
        {
            float* p = x + (long)j * stride, q = y + (long)j * stride;
            for (int k = 0; k < nv; k++)
            {
                var e = CpuVecMath.ExpNonPositive(Avx.Subtract(Load(p + 8 * k, k == nv - 1, lastMask), max[k]));
                sum[k] = Avx.Add(sum[k], e);
                if (!log) Store(q + 8 * k, e, k == nv - 1, lastMask);
            }
        }
        for (int k = 0; k < nv; k++)
            sum[k] = log ? Avx.Add(max[k], Log(sum[k])) : Avx.Divide(Vector256.Create(1f), sum[k]);
        for (int j = 0; j < l; j++)
        {
            float* p = x + (long)j * stride, q = y + (long)j * stride;
            for (int k = 0; k < nv; k++)
            {
                bool last = k == nv - 1;
                Store(q + 8 * k, log ? Avx.Subtract(Load(p + 8 * k, last, lastMask), sum[k])
                                     : Avx.Multiply(Load(q + 8 * k, last, lastMask), sum[k]), last, lastMask);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void BackwardColumns(float* y, float* gy, float* gx, int l, int stride, int w, bool log)
    {
        int nv = (w + 7) / 8;
        var lastMask = CpuVecMath.TailMask(w - 8 * (nv - 1));
        var sum = stackalloc Vector256<float>[nv];
        for (int k = 0; k < nv; k++) sum[k] = default;
        for (int j = 0; j < l; j++)
        {
            long off = (long)j * stride;
            for (int k = 0; k < nv; k++)
            {
                bool last = k == nv - 1;
                var g = Load(gy + off + 8 * k, last, lastMask);
                sum[k] = log ? Avx.Add(sum[k], g) : Fma.MultiplyAdd(g, Load(y + off + 8 * k, last, lastMask), sum[k]);
            }
        }
        for (int j = 0; j < l; j++)
        {
            long off = (long)j * stride;
            for (int k = 0; k < nv; k++)
            {
                bool last = k == nv - 1;
                var yv = Load(y + off + 8 * k, last, lastMask);
                var g = Load(gy + off + 8 * k, last, lastMask);
                var r = log ? Fma.MultiplyAddNegated(CpuVecMath.Exp(yv), sum[k], g) : Avx.Multiply(yv, Avx.Subtract(g, sum[k]));
                Store(gx + off + 8 * k, r, last, lastMask);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Load(float* p, bool last, Vector256<float> mask) => last ? Avx.MaskLoad(p, mask) : Avx.LoadVector256(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(float* p, Vector256<float> v, bool last, Vector256<float> mask)
    {
        if (last) Avx.MaskStore(p, mask, v);
        else Avx.Store(p, v);
    }

    static Vector256<float> Log(Vector256<float> v)
    {
        // once per chunk: scalar logs are fine
        var r = stackalloc float[8];
        Avx.Store(r, v);
        for (int k = 0; k < 8; k++) r[k] = MathF.Log(r[k]);
        return Avx.LoadVector256(r);
    }

    // ------------------------------------------------------------------ elementwise helpers

    readonly struct Scale(float s) : CpuUnary.IVecUnary
    {
        readonly Vector256<float> v = Vector256.Create(s);
        public Vector256<float> Apply(Vector256<float> x) => Avx.Multiply(x, v);
    }

    readonly struct Shift(float s) : CpuUnary.IVecUnary
    {
        readonly Vector256<float> v = Vector256.Create(s);
        public Vector256<float> Apply(Vector256<float> x) => Avx.Subtract(x, v);
    }

    readonly struct SoftmaxGrad(float s) : CpuUnary.IVecBinary
    {
        readonly Vector256<float> v = Vector256.Create(s);
        public Vector256<float> Apply(Vector256<float> y, Vector256<float> g) => Avx.Multiply(y, Avx.Subtract(g, v));
    }

    readonly struct LogSoftmaxGrad(float s) : CpuUnary.IVecBinary, CpuUnary.IHeavy
    {
        readonly Vector256<float> v = Vector256.Create(s);
        public Vector256<float> Apply(Vector256<float> y, Vector256<float> g) => Fma.MultiplyAddNegated(CpuVecMath.Exp(y), v, g);
    }

    static void Check(int xLen, int yLen, int outer, int l, int inner)
    {
        if (outer < 0 || l < 0 || inner < 0)
            throw new ArgumentException($"CpuSoftmax: negative shape ({outer}, {l}, {inner}).");
        if ((long)outer * l * inner != xLen)
            throw new ArgumentException($"CpuSoftmax: input has length {xLen}, expected outer·l·inner = {outer}·{l}·{inner}.");
        if (yLen != xLen)
            throw new ArgumentException($"CpuSoftmax: output has length {yLen}, expected {xLen}.");
    }
}
