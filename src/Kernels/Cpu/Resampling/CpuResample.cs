using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using FsrNative.Kernels.Cpu.Reference;

namespace FsrNative.Kernels.Cpu;

/// <summary>
/// 2-D resampling (nearest / bilinear / bicubic, <see cref="ResampleMath"/>'s taps) of contiguous (planes, H, W) blocks,
/// forward and backward, and flip of a (outer, n, inner) block. planes = N·C.
/// <para>Separable: the 2-D map is y = A_H · x · A_Wᵀ per plane, where A_H (outH × inH) and A_W (outW × inW) have 1, 2 or
/// 4 non-zeros per row, tabulated once per call. Two passes per plane, in the cheaper order:
/// <list type="bullet">
/// <item>H first ("horizontal first"): each input row that some output row needs is resampled along W into an
/// outW-wide scratch row (gathers, cost inH·outW·taps), then every output row is a weighted sum of taps scratch rows
/// (pure Vector256 FMA streams, cost outH·outW·taps/8). Chosen for upsampling: the gathers run on the few input rows.</item>
/// <item>V first: each output row is first a weighted sum of input rows (inW wide, vector), then resampled along W.</item>
/// </list>
/// The order minimises gathers + vector work / 8. Work items are (plane, block of output rows), split over cores.</para>
/// <para>Backward, gx = A_Hᵀ · gy · A_W per plane, is the same two passes transposed and in the mirrored order (forward
/// "H first" ⇔ backward "vertical first"): vertical accumulation of gy rows into the input rows their taps name
/// (vector axpys, in output-row order), and a scalar scatter along W. Each plane is one work item and is summed in a
/// fixed order, so results are deterministic and independent of the core count.</para>
/// </summary>
public static unsafe class CpuResample
{
    /// <summary>One axis tabulated: index and weight of tap k of output o at [k·out + o] (planar, for gathers).</summary>
    sealed class Axis
    {
        public readonly int Taps, Out, In;
        public readonly int[] Index;
        public readonly float[] Weight;

        public Axis(ResampleMode mode, ResampleAxis a)
        {
            Taps = ResampleMath.TapCount(mode);
            Out = a.Out;
            In = a.In;
            Index = new int[Taps * Out];
            Weight = new float[Taps * Out];
            for (int o = 0; o < Out; o++)
            {
                var t = ResampleMath.Taps(mode, a, o);
                for (int k = 0; k < Taps; k++)
                {
                    Index[k * Out + o] = ResampleMath.Index(t, k);
                    Weight[k * Out + o] = ResampleMath.Weight(t, k);
                }
            }
        }
    }

    /// <summary>True when the W pass runs first in the forward (and last in the backward).</summary>
    static bool HorizontalFirst(ResampleAxis h, ResampleAxis w, int taps)
    {
        double hFirst = (double)h.In * w.Out * taps + (double)h.Out * w.Out * taps / 8;
        double vFirst = (double)h.Out * w.In * taps / 8 + (double)h.Out * w.Out * taps;
        return hFirst <= vFirst;
    }

    // ------------------------------------------------------------------ forward

    /// <summary>y (planes, h.Out, w.Out) = resample(x (planes, h.In, w.In)).</summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, int planes, ResampleMode mode, ResampleAxis h, ResampleAxis w)
    {
        Check(x.Length, y.Length, planes, h, w);
        if (y.Length == 0) return;
        if (!CpuVecMath.IsSupported) { ReferenceResampling<float>.Forward(x, y, planes, mode, h, w); return; }
        var ah = new Axis(mode, h);
        var aw = new Axis(mode, w);
        bool hFirst = HorizontalFirst(h, w, ah.Taps);
        // Row blocks only when there are too few planes to keep every core busy.
        int blocks = planes >= 4 * CpuParallel.Workers ? 1 : Math.Min(h.Out, (4 * CpuParallel.Workers + planes - 1) / planes);
        int rowsPerBlock = (h.Out + blocks - 1) / blocks;
        blocks = (h.Out + rowsPerBlock - 1) / rowsPerBlock;
        long workPerItem = (long)rowsPerBlock * w.Out * ah.Taps * 2;
        fixed (float* px0 = x, py0 = y)
        {
            float* px = px0, py = py0;
            CpuParallel.For((long)planes * blocks, workPerItem, 1, (s, e) =>
            {
                for (long item = s; item < e; item++)
                {
                    int p = (int)(item / blocks), b = (int)(item % blocks);
                    int oh0 = b * rowsPerBlock, oh1 = Math.Min(h.Out, oh0 + rowsPerBlock);
                    float* xp = px + (long)p * h.In * w.In, yp = py + (long)p * h.Out * w.Out;
                    if (hFirst) ForwardHorizontalFirst(xp, yp, oh0, oh1, ah, aw);
                    else ForwardVerticalFirst(xp, yp, oh0, oh1, ah, aw);
                }
            });
        }
    }

    static void ForwardHorizontalFirst(float* x, float* y, int oh0, int oh1, Axis ah, Axis aw)
    {
        // Input rows [r0, r1] are all that output rows [oh0, oh1) read (tap windows are non-decreasing).
        int r0 = int.MaxValue, r1 = -1;
        for (int k = 0; k < ah.Taps; k++)
        {
            r0 = Math.Min(r0, ah.Index[k * ah.Out + oh0]);
            r1 = Math.Max(r1, ah.Index[k * ah.Out + oh1 - 1]);
        }
        int outW = aw.Out, inW = aw.In;
        int rows = r1 - r0 + 1;
        var buffer = ArrayPool<float>.Shared.Rent(rows * outW);
        try
        {
            fixed (float* tmp = buffer)
            fixed (int* idxW = aw.Index)
            fixed (float* wW = aw.Weight)
            {
                for (int r = 0; r < rows; r++) ResampleRow(x + (long)(r0 + r) * inW, tmp + (long)r * outW, outW, aw.Taps, idxW, wW);
                for (int oh = oh0; oh < oh1; oh++)
                {
                    float* dst = y + (long)oh * outW;
                    switch (ah.Taps)
                    {
                        case 1:
                            new ReadOnlySpan<float>(tmp + (long)(ah.Index[oh] - r0) * outW, outW).CopyTo(new Span<float>(dst, outW));
                            break;
                        case 2:
                            Combine2(tmp + (long)(ah.Index[oh] - r0) * outW, ah.Weight[oh],
                                tmp + (long)(ah.Index[ah.Out + oh] - r0) * outW, ah.Weight[ah.Out + oh], dst, outW);
                            break;
                        default:
                            Combine4(tmp, r0, outW, ah, oh, dst);
                            break;
                    }
                }
            }
        }
        finally { ArrayPool<float>.Shared.Return(buffer); }
    }

    static void ForwardVerticalFirst(float* x, float* y, int oh0, int oh1, Axis ah, Axis aw)
    {
        int outW = aw.Out, inW = aw.In;
        var buffer = ArrayPool<float>.Shared.Rent(inW);
        try
        {
            fixed (float* tmp = buffer)
            fixed (int* idxW = aw.Index)
            fixed (float* wW = aw.Weight)
            {
                for (int oh = oh0; oh < oh1; oh++)
                {
                    switch (ah.Taps)
                    {
                        case 1:
                            new ReadOnlySpan<float>(x + (long)ah.Index[oh] * inW, inW).CopyTo(new Span<float>(tmp, inW));
                            break;
                        case 2:
                            Combine2(x + (long)ah.Index[oh] * inW, ah.Weight[oh], x + (long)ah.Index[ah.Out + oh] * inW, ah.Weight[ah.Out + oh], tmp, inW);
                            break;
                        default:
                            Combine4(x, 0, inW, ah, oh, tmp);
                            break;
                    }
                    ResampleRow(tmp, y + (long)oh * outW, outW, aw.Taps, idxW, wW);
                }
            }
        }
        finally { ArrayPool<float>.Shared.Return(buffer); }
    }

    /// <summary>dst[o] = Σ_k w[k·n + o]·src[idx[k·n + o]] for o in [0, n): 8 outputs per step with AVX2 gathers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void ResampleRow(float* src, float* dst, int n, int taps, int* idx, float* w)
    {
        int o = 0;
        for (; o <= n - 8; o += 8)
        {
            var acc = Avx.Multiply(Avx2.GatherVector256(src, Avx.LoadVector256(idx + o), 4), Avx.LoadVector256(w + o));
            for (int k = 1; k < taps; k++)
                acc = Fma.MultiplyAdd(Avx2.GatherVector256(src, Avx.LoadVector256(idx + k * n + o), 4), Avx.LoadVector256(w + k * n + o), acc);
            Avx.Store(dst + o, acc);
        }
        for (; o < n; o++)
        {
            float acc = src[idx[o]] * w[o];
            for (int k = 1; k < taps; k++) acc = MathF.FusedMultiplyAdd(src[idx[k * n + o]], w[k * n + o], acc);
            dst[o] = acc;
        }
    }

    /// <summary>dst = wa·a + wb·b over n floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Combine2(float* a, float wa, float* b, float wb, float* dst, int n)
    {
        var va = Vector256.Create(wa);
        var vb = Vector256.Create(wb);
        int i = 0;
        for (; i <= n - 16; i += 16)
        {
            Avx.Store(dst + i, Fma.MultiplyAdd(Avx.LoadVector256(b + i), vb, Avx.Multiply(Avx.LoadVector256(a + i), va)));
            Avx.Store(dst + i + 8, Fma.MultiplyAdd(Avx.LoadVector256(b + i + 8), vb, Avx.Multiply(Avx.LoadVector256(a + i + 8), va)));
        }
        for (; i <= n - 8; i += 8)
            Avx.Store(dst + i, Fma.MultiplyAdd(Avx.LoadVector256(b + i), vb, Avx.Multiply(Avx.LoadVector256(a + i), va)));
        if (i < n)
        {
            int r = n - i;
            CpuVecMath.StoreTail(dst + i, Fma.MultiplyAdd(CpuVecMath.LoadTail(b + i, r), vb, Avx.Multiply(CpuVecMath.LoadTail(a + i, r), va)), r);
        }
    }

    /// <summary>dst = Σ_k w_k·rows[index_k − r0] over n floats for output row <paramref name="o"/> of a 4-tap axis.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Combine4(float* rows, int r0, int n, Axis a, int o, float* dst)
    {
        int m = a.Out;
        float* s0 = rows + (long)(a.Index[o] - r0) * n, s1 = rows + (long)(a.Index[m + o] - r0) * n;
        float* s2 = rows + (long)(a.Index[2 * m + o] - r0) * n, s3 = rows + (long)(a.Index[3 * m + o] - r0) * n;
        var w0 = Vector256.Create(a.Weight[o]); var w1 = Vector256.Create(a.Weight[m + o]);
        var w2 = Vector256.Create(a.Weight[2 * m + o]); var w3 = Vector256.Create(a.Weight[3 * m + o]);
        int i = 0;
        for (; i <= n - 8; i += 8)
        {
            var acc = Avx.Multiply(Avx.LoadVector256(s0 + i), w0);
            acc = Fma.MultiplyAdd(Avx.LoadVector256(s1 + i), w1, acc);
            acc = Fma.MultiplyAdd(Avx.LoadVector256(s2 + i), w2, acc);
            acc = Fma.MultiplyAdd(Avx.LoadVector256(s3 + i), w3, acc);
            Avx.Store(dst + i, acc);
        }
        if (i < n)
        {
            int r = n - i;
            var acc = Avx.Multiply(CpuVecMath.LoadTail(s0 + i, r), w0);
            acc = Fma.MultiplyAdd(CpuVecMath.LoadTail(s1 + i, r), w1, acc);
            acc = Fma.MultiplyAdd(CpuVecMath.LoadTail(s2 + i, r), w2, acc);
            acc = Fma.MultiplyAdd(CpuVecMath.LoadTail(s3 + i, r), w3, acc);
            CpuVecMath.StoreTail(dst + i, acc, r);
        }
    }

    /// <summary>dst += w·src over n floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Axpy(float* src, float w, float* dst, int n)
    {
        var vw = Vector256.Create(w);
        int i = 0;
        for (; i <= n - 16; i += 16)
        {
            Avx.Store(dst + i, Fma.MultiplyAdd(Avx.LoadVector256(src + i), vw, Avx.LoadVector256(dst + i)));
            Avx.Store(dst + i + 8, Fma.MultiplyAdd(Avx.LoadVector256(src + i + 8), vw, Avx.LoadVector256(dst + i + 8)));
        }
        for (; i <= n - 8; i += 8)
            Avx.Store(dst + i, Fma.MultiplyAdd(Avx.LoadVector256(src + i), vw, Avx.LoadVector256(dst + i)));
        if (i < n)
        {
            int r = n - i;
            CpuVecMath.StoreTail(dst + i, Fma.MultiplyAdd(CpuVecMath.LoadTail(src + i, r), vw, CpuVecMath.LoadTail(dst + i, r)), r);
        }
    }

    // ------------------------------------------------------------------ backward

    /// <summary>gx (planes, h.In, w.In) = the transpose of <see cref="Forward"/> applied to gy (planes, h.Out, w.Out); gx is overwritten.</summary>
    public static void Backward(ReadOnlySpan<float> gy, Span<float> gx, int planes, ResampleMode mode, ResampleAxis h, ResampleAxis w)
    {
        Check(gx.Length, gy.Length, planes, h, w);
        if (gx.Length == 0) return;
        if (!CpuVecMath.IsSupported) { ReferenceResampling<float>.Backward(gy, gx, planes, mode, h, w); return; }
        var ah = new Axis(mode, h);
        var aw = new Axis(mode, w);
        bool verticalFirst = HorizontalFirst(h, w, ah.Taps);
        long workPerItem = (long)h.Out * w.Out * ah.Taps * 2;
        fixed (float* pg0 = gy, pgx0 = gx)
        {
            float* pg = pg0, pgx = pgx0;
            CpuParallel.For(planes, workPerItem, 1, (s, e) =>
            {
                for (long p = s; p < e; p++)
                {
                    float* g = pg + p * h.Out * w.Out, d = pgx + p * h.In * w.In;
                    if (verticalFirst) BackwardVerticalFirst(g, d, ah, aw);
                    else BackwardHorizontalFirst(g, d, ah, aw);
                }
            });
        }
    }

    /// <summary>acc (inH × outW) = A_Hᵀ·gy by row axpys in output-row order, then each acc row scattered along W.</summary>
    static void BackwardVerticalFirst(float* gy, float* gx, Axis ah, Axis aw)
    {
        int outW = aw.Out, inW = aw.In, inH = ah.In;
        var buffer = ArrayPool<float>.Shared.Rent(inH * outW);
        try
        {
            fixed (float* acc = buffer)
            fixed (int* idxW = aw.Index)
            fixed (float* wW = aw.Weight)
            {
                new Span<float>(acc, inH * outW).Clear();
                for (int oh = 0; oh < ah.Out; oh++)
                    for (int k = 0; k < ah.Taps; k++)
                    {
                        float wk = ah.Weight[k * ah.Out + oh];
                        if (wk != 0f) Axpy(gy + (long)oh * outW, wk, acc + (long)ah.Index[k * ah.Out + oh] * outW, outW);
                    }
                for (int ih = 0; ih < inH; ih++) ScatterRow(acc + (long)ih * outW, gx + (long)ih * inW, outW, inW, aw.Taps, idxW, wW);
            }
        }
        finally { ArrayPool<float>.Shared.Return(buffer); }
    }

    /// <summary>Each gy row scattered along W into an inW row, then added into the input rows its H taps name.</summary>
    static void BackwardHorizontalFirst(float* gy, float* gx, Axis ah, Axis aw)
    {
        int outW = aw.Out, inW = aw.In;
        new Span<float>(gx, ah.In * inW).Clear();
        var buffer = ArrayPool<float>.Shared.Rent(inW);
        try
        {
            fixed (float* row = buffer)
            fixed (int* idxW = aw.Index)
            fixed (float* wW = aw.Weight)
            {
                for (int oh = 0; oh < ah.Out; oh++)
                {
                    ScatterRow(gy + (long)oh * outW, row, outW, inW, aw.Taps, idxW, wW);
                    for (int k = 0; k < ah.Taps; k++)
                    {
                        float wk = ah.Weight[k * ah.Out + oh];
                        if (wk != 0f) Axpy(row, wk, gx + (long)ah.Index[k * ah.Out + oh] * inW, inW);
                    }
                }
            }
        }
        finally { ArrayPool<float>.Shared.Return(buffer); }
    }

    /// <summary>dst (m floats) = Σ over outputs o and taps k of w[k·n + o]·src[o] into dst[idx[k·n + o]] (dst overwritten).</summary>
    static void ScatterRow(float* src, float* dst, int n, int m, int taps, int* idx, float* w)
    {
        new Span<float>(dst, m).Clear();
        for (int o = 0; o < n; o++)
        {
            float g = src[o];
            for (int k = 0; k < taps; k++) dst[idx[k * n + o]] += w[k * n + o] * g;
        }
    }

    // ------------------------------------------------------------------ flip

    /// <summary>dst(o, j, i) = src(o, n − 1 − j, i) over contiguous (outer, n, inner) blocks of 4-byte words (Float32 or
    /// Int32 bits). inner = 1 reverses rows with a lane permute; otherwise rows of inner words are copied in reverse order.</summary>
    public static void Flip(ReadOnlySpan<float> src, Span<float> dst, int outer, int n, int inner)
    {
        if ((long)outer * n * inner != src.Length || dst.Length != src.Length)
            throw new ArgumentException($"CpuResample.Flip: lengths {src.Length} and {dst.Length} for block ({outer}, {n}, {inner})");
        if (src.Length == 0) return;
        fixed (float* ps0 = src, pd0 = dst)
        {
            float* ps = ps0, pd = pd0;
            long rowWords = (long)n * inner;
            CpuParallel.For(outer, 2 * rowWords, 1, (s, e) =>
            {
                for (long o = s; o < e; o++)
                {
                    float* a = ps + o * rowWords, b = pd + o * rowWords;
                    if (inner == 1 && CpuVecMath.IsSupported) ReverseRow(a, b, n);
                    else
                        for (int j = 0; j < n; j++)
                            new ReadOnlySpan<float>(a + (long)(n - 1 - j) * inner, inner).CopyTo(new Span<float>(b + (long)j * inner, inner));
                }
            });
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void ReverseRow(float* src, float* dst, int n)
    {
        var rev = Vector256.Create(7, 6, 5, 4, 3, 2, 1, 0);
        int j = 0;
        for (; j <= n - 8; j += 8)
            Avx.Store(dst + j, Avx2.PermuteVar8x32(Avx.LoadVector256(src + n - 8 - j), rev));
        for (; j < n; j++) dst[j] = src[n - 1 - j];
    }

    static void Check(int inLength, int outLength, int planes, ResampleAxis h, ResampleAxis w)
    {
        if (planes < 0 || h.In < 0 || h.Out < 0 || w.In < 0 || w.Out < 0)
            throw new ArgumentException($"CpuResample: negative size (planes {planes}, {h.In}×{w.In} → {h.Out}×{w.Out})");
        if ((long)planes * h.In * w.In != inLength)
            throw new ArgumentException($"CpuResample: input has {inLength} elements, expected {planes}·{h.In}·{w.In}");
        if ((long)planes * h.Out * w.Out != outLength)
            throw new ArgumentException($"CpuResample: output has {outLength} elements, expected {planes}·{h.Out}·{w.Out}");
        if ((h.Out > 0 && h.In == 0) || (w.Out > 0 && w.In == 0))
            throw new ArgumentException($"CpuResample: cannot resample an empty input ({h.In}×{w.In}) to {h.Out}×{w.Out}");
    }
}
