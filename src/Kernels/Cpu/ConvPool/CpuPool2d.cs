using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FsrNative.Kernels.Cpu;

/// <summary>
/// 2-D max and average pooling over contiguous (H, W) planes (N·C of them), forward and backward, with the same
/// results as PyTorch's CPU kernels (see <see cref="Reference.ReferenceConvPool{T}"/> for the definitions: the max
/// keeps the first of equal values and the last NaN; the average sums its window in row-major order, then divides).
/// Planes are split over cores; each plane is done by one thread, so results never depend on the core count.
/// <para><b>Window pools, vectorised along the output row.</b> For output row oh, every kernel tap (kh, kw) reads
/// input columns iw = ow·SW + (kw·DW − PW): with the input row split into SW phases (phase r holds columns
/// r, r + SW, …; SW = 2 uses an AVX2 deinterleave), that is phase[(kw·DW − PW) mod SW] at offset ow + ⌊(kw·DW − PW)/SW⌋,
/// a contiguous run. So each tap is one pass of 8-wide loads over the outputs for which it lies inside the image, updating
/// a running maximum and its index (compare, blend) or a running sum held in an L1 row buffer. Taps are applied in
/// (kh, kw) order, which reproduces the scalar loop's comparisons and additions exactly.</para>
/// <para><b>Global pools</b> (one window covering the plane: GAP/GMP): a plane is one row — 4×8-lane sums, or a vector
/// maximum with a NaN check followed by a search for the winning index. <b>Adaptive average pools</b> whose windows
/// tile the plane evenly take the window-pool path; other adaptive windows are summed per output.</para>
/// <para><b>Backward</b>: each plane's gradient is zeroed, then every output's gradient is added at its saved index
/// (max) or spread over its window (average), outputs in order — PyTorch's scatter, done per plane.</para>
/// </summary>
public static unsafe class CpuPool2d
{
    // ---- max ---------------------------------------------------------------------------------------------------

    /// <summary>y, indices (planes, OH, OW) = max over each window of x (planes, H, W); indices flat in the plane.</summary>
    public static void MaxForward(float* x, float* y, int* indices, Pool2dGeometry g)
    {
        if (g.Planes == 0) return;
        long hw = (long)g.H * g.W, ohw = (long)g.OH * g.OW;
        if (g.IsGlobal)
        {
            CpuParallel.For(g.Planes, hw, 1, (p0, p1) =>
            {
                for (long p = p0; p < p1; p++) GlobalMax(x + p * hw, (int)hw, out y[p], out indices[p]);
            });
            return;
        }
        var taps = Taps.Create(g, forMax: true);
        CpuParallel.For(g.Planes, ohw * g.KH * g.KW, 1, (p0, p1) =>
        {
            var buffers = new RowBuffers(g);
            fixed (float* phases = buffers.Phases, rowMax = buffers.Row)
            fixed (int* rowIdx = buffers.Index)
                for (long p = p0; p < p1; p++)
                    MaxPlane(x + p * hw, y + p * ohw, indices + p * ohw, g, taps, phases, rowMax, rowIdx);
        });
    }

    static void MaxPlane(float* x, float* y, int* idx, in Pool2dGeometry g, Taps taps, float* phases, float* rowMax, int* rowIdx)
    {
        var iota = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * g.SW;
        for (int oh = 0; oh < g.OH; oh++)
        {
            int hStart = oh * g.SH - g.PH;
            int h0 = FirstInside(hStart, g.DH);
            new Span<float>(rowMax, g.OW).Fill(float.NegativeInfinity);
            for (int ow = 0; ow < g.OW; ow++) rowIdx[ow] = h0 * g.W + taps.FirstColumn[ow];
            for (int kh = 0; kh < g.KH; kh++)
            {
                int ih = hStart + kh * g.DH;
                if ((uint)ih >= (uint)g.H) continue;
                float* src = x + (long)ih * g.W;
                Split(src, phases, g.W, g.SW, taps.PhaseLength);
                for (int kw = 0; kw < g.KW; kw++)
                {
                    int lo = taps.Lo[kw], hi = taps.Hi[kw];
                    float* v = g.SW == 1 ? src + taps.Shift[kw] : phases + taps.Phase[kw] * taps.PhaseLength + taps.Offset[kw];
                    int baseIndex = ih * g.W + taps.Shift[kw];   // input index of output ow is baseIndex + ow·SW
                    int ow = lo;
                    if (Vector256.IsHardwareAccelerated)
                    {
                        for (; ow <= hi - 8; ow += 8)
                        {
                            var xv = Vector256.Load(v + ow);
                            var m = Vector256.Load(rowMax + ow);
                            var take = Vector256.GreaterThan(xv, m) | ~Vector256.Equals(xv, xv);
                            Vector256.ConditionalSelect(take, xv, m).Store(rowMax + ow);
                            var candidate = Vector256.Create(baseIndex + ow * g.SW) + iota;
                            Vector256.ConditionalSelect(take.AsInt32(), candidate, Vector256.Load(rowIdx + ow)).Store(rowIdx + ow);
                        }
                    }
                    for (; ow < hi; ow++)
                    {
                        float xv = v[ow];
                        if (xv > rowMax[ow] || float.IsNaN(xv)) { rowMax[ow] = xv; rowIdx[ow] = baseIndex + ow * g.SW; }
                    }
                }
            }
            new ReadOnlySpan<float>(rowMax, g.OW).CopyTo(new Span<float>(y + oh * g.OW, g.OW));
            new ReadOnlySpan<int>(rowIdx, g.OW).CopyTo(new Span<int>(idx + oh * g.OW, g.OW));
        }
    }

    /// <summary>Max of a whole plane with PyTorch's rule (first of equal maxima; any NaN: the last NaN).</summary>
    static void GlobalMax(float* x, int n, out float value, out int index)
    {
        int i = 0;
        bool nan = false;
        float m = float.NegativeInfinity;
        if (Avx.IsSupported && n >= 8)
        {
            // maxps returns its second operand when either is NaN, so m may be wrong when a NaN is present; the NaN
            // flag then decides (the last NaN wins) and m is not used.
            var m0 = Vector256.Create(float.NegativeInfinity);
            Vector256<float> m1 = m0, m2 = m0, m3 = m0, nanAcc = Vector256<float>.Zero;
            for (; i <= n - 32; i += 32)
            {
                var a = Avx.LoadVector256(x + i); var b = Avx.LoadVector256(x + i + 8);
                var c = Avx.LoadVector256(x + i + 16); var d = Avx.LoadVector256(x + i + 24);
                m0 = Avx.Max(m0, a); m1 = Avx.Max(m1, b); m2 = Avx.Max(m2, c); m3 = Avx.Max(m3, d);
                nanAcc = Avx.Or(nanAcc, Avx.Or(Avx.CompareUnordered(a, b), Avx.CompareUnordered(c, d)));
            }
            for (; i <= n - 8; i += 8)
            {
                var a = Avx.LoadVector256(x + i);
                m0 = Avx.Max(m0, a);
                nanAcc = Avx.Or(nanAcc, Avx.CompareUnordered(a, a));
            }
            nan = !Avx.TestZ(nanAcc.AsInt32(), nanAcc.AsInt32());
            var mm = Avx.Max(Avx.Max(m0, m1), Avx.Max(m2, m3));
            for (int k = 0; k < 8; k++) m = MathF.Max(m, mm.GetElement(k));
        }
        for (; i < n; i++)
        {
            float v = x[i];
            if (float.IsNaN(v)) nan = true;
            else if (v > m) m = v;
        }
        if (nan)
        {
            for (int k = n - 1; k >= 0; k--)
                if (float.IsNaN(x[k])) { value = x[k]; index = k; return; }
        }
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var mv = Vector256.Create(m);
            for (; j <= n - 8; j += 8)
            {
                uint hits = Vector256.Equals(Vector256.Load(x + j), mv).ExtractMostSignificantBits();
                if (hits != 0)
                {
                    j += System.Numerics.BitOperations.TrailingZeroCount(hits);
                    value = x[j]; index = j;
                    return;
                }
            }
        }
        for (; j < n; j++)
            if (x[j] == m) { value = x[j]; index = j; return; }
        value = float.NegativeInfinity;   // unreachable for n ≥ 1 (m is one of the values)
        index = 0;
    }

    /// <summary>gx (planes, H, W) = 0, then gx[plane, indices[o]] += gy[o] for each plane's outputs in order.</summary>
    public static void MaxBackward(float* gy, int* indices, float* gx, Pool2dGeometry g)
    {
        if (g.Planes == 0) return;
        long hw = (long)g.H * g.W, ohw = (long)g.OH * g.OW;
        CpuParallel.For(g.Planes, hw + ohw, 1, (p0, p1) =>
        {
            for (long p = p0; p < p1; p++)
            {
                float* d = gx + p * hw;
                new Span<float>(d, (int)hw).Clear();
                float* s = gy + p * ohw;
                int* ix = indices + p * ohw;
                for (int o = 0; o < ohw; o++)
                {
                    int i = ix[o];
                    if ((uint)i >= (ulong)hw) throw BadIndex(i, p * ohw + o, g);
                    d[i] += s[o];
                }
            }
        });
    }

    static IndexOutOfRangeException BadIndex(int index, long position, in Pool2dGeometry g)
        => new($"max_pool2d_backward: index {index} at output {position} is outside the {g.H}×{g.W} plane");

    // ---- average -----------------------------------------------------------------------------------------------

    /// <summary>y (planes, OH, OW) = average over each window of x (planes, H, W) (adaptive windows when g.Adaptive).</summary>
    public static void AvgForward(float* x, float* y, Pool2dGeometry g)
    {
        if (g.Planes == 0) return;
        long hw = (long)g.H * g.W, ohw = (long)g.OH * g.OW;
        if (g.IsGlobal)
        {
            float divisor = g.Divisor != 0 ? g.Divisor : (float)hw;
            CpuParallel.For(g.Planes, hw, 1, (p0, p1) =>
            {
                for (long p = p0; p < p1; p++) y[p] = Sum(x + p * hw, (int)hw) / divisor;
            });
            return;
        }
        var regular = AsRegular(g);
        if (regular.Adaptive != 0)
        {
            CpuParallel.For(g.Planes, hw + ohw, 1, (p0, p1) =>
            {
                for (long p = p0; p < p1; p++) AdaptivePlane(x + p * hw, y + p * ohw, g);
            });
            return;
        }
        var taps = Taps.Create(regular, forMax: false);
        CpuParallel.For(g.Planes, ohw * g.KH * g.KW, 1, (p0, p1) =>
        {
            var buffers = new RowBuffers(regular);
            fixed (float* phases = buffers.Phases, rowSum = buffers.Row, divisors = buffers.Divisors)
                for (long p = p0; p < p1; p++)
                    AvgPlane(x + p * hw, y + p * ohw, regular, taps, phases, rowSum, divisors);
        });
    }

    /// <summary>An adaptive geometry whose windows tile the plane evenly (H % OH = 0 and W % OW = 0) as the equivalent
    /// window pool (same windows, same divisors, same order of additions); any other geometry unchanged.</summary>
    static Pool2dGeometry AsRegular(Pool2dGeometry g)
    {
        if (g.Adaptive == 0 || g.H % g.OH != 0 || g.W % g.OW != 0) return g;
        int kh = g.H / g.OH, kw = g.W / g.OW;
        return new Pool2dGeometry
        {
            Planes = g.Planes, H = g.H, W = g.W, OH = g.OH, OW = g.OW, KH = kh, KW = kw, SH = kh, SW = kw,
            DH = 1, DW = 1, CountIncludePad = 1,
        };
    }

    static void AvgPlane(float* x, float* y, in Pool2dGeometry g, Taps taps, float* phases, float* rowSum, float* divisors)
    {
        for (int oh = 0; oh < g.OH; oh++)
        {
            g.AvgWindow(oh, true, out int h0, out int h1, out int hc);
            new Span<float>(rowSum, g.OW).Clear();
            for (int ow = 0; ow < g.OW; ow++) divisors[ow] = g.Divisor != 0 ? g.Divisor : (float)(hc * taps.ColumnCount[ow]);
            for (int kh = 0; kh < g.KH; kh++)
            {
                int ih = oh * g.SH - g.PH + kh;
                if ((uint)ih >= (uint)g.H) continue;
                float* src = x + (long)ih * g.W;
                Split(src, phases, g.W, g.SW, taps.PhaseLength);
                for (int kw = 0; kw < g.KW; kw++)
                {
                    int lo = taps.Lo[kw], hi = taps.Hi[kw];
                    float* v = g.SW == 1 ? src + taps.Shift[kw] : phases + taps.Phase[kw] * taps.PhaseLength + taps.Offset[kw];
                    int ow = lo;
                    if (Vector256.IsHardwareAccelerated)
                        for (; ow <= hi - 8; ow += 8)
                            (Vector256.Load(rowSum + ow) + Vector256.Load(v + ow)).Store(rowSum + ow);
                    for (; ow < hi; ow++) rowSum[ow] += v[ow];
                }
            }
            float* yr = y + oh * g.OW;
            bool empty = h0 >= h1;
            for (int ow = 0; ow < g.OW; ow++)
                yr[ow] = empty || taps.ColumnEmpty[ow] ? 0f : rowSum[ow] / divisors[ow];
        }
    }

    static void AdaptivePlane(float* x, float* y, in Pool2dGeometry g)
    {
        for (int oh = 0; oh < g.OH; oh++)
        {
            g.AvgWindow(oh, true, out int h0, out int h1, out int hc);
            for (int ow = 0; ow < g.OW; ow++)
            {
                g.AvgWindow(ow, false, out int w0, out int w1, out int wc);
                float s = 0f;
                for (int ih = h0; ih < h1; ih++)
                    for (int iw = w0; iw < w1; iw++) s += x[(long)ih * g.W + iw];
                y[oh * g.OW + ow] = s / (float)(hc * wc);
            }
        }
    }

    /// <summary>Σ x[0..n) in 32 lanes (4 × Vector256; then 8 lanes for what is left of n mod 32), lanes combined in a
    /// fixed order.</summary>
    static float Sum(float* x, int n)
    {
        int i = 0;
        float s = 0f;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i <= n - 32; i += 32)
            {
                a0 += Vector256.Load(x + i); a1 += Vector256.Load(x + i + 8);
                a2 += Vector256.Load(x + i + 16); a3 += Vector256.Load(x + i + 24);
            }
            for (; i <= n - 8; i += 8) a0 += Vector256.Load(x + i);
            s = Vector256.Sum((a0 + a1) + (a2 + a3));
        }
        for (; i < n; i++) s += x[i];
        return s;
    }

    /// <summary>gx (planes, H, W) = 0, then each output's gy / divisor is added over its window, outputs in order.</summary>
    public static void AvgBackward(float* gy, float* gx, Pool2dGeometry g)
    {
        if (g.Planes == 0) return;
        long hw = (long)g.H * g.W, ohw = (long)g.OH * g.OW;
        if (g.IsGlobal)
        {
            float divisor = g.Divisor != 0 ? g.Divisor : (float)hw;
            CpuParallel.For(g.Planes, hw, 1, (p0, p1) =>
            {
                for (long p = p0; p < p1; p++) new Span<float>(gx + p * hw, (int)hw).Fill(gy[p] / divisor);
            });
            return;
        }
        var rg = AsRegular(g);
        CpuParallel.For(g.Planes, hw + ohw * g.KH * g.KW, 1, (p0, p1) =>
        {
            for (long p = p0; p < p1; p++)
            {
                float* d = gx + p * hw, s = gy + p * ohw;
                new Span<float>(d, (int)hw).Clear();
                for (int oh = 0; oh < rg.OH; oh++)
                {
                    rg.AvgWindow(oh, true, out int h0, out int h1, out int hc);
                    for (int ow = 0; ow < rg.OW; ow++)
                    {
                        rg.AvgWindow(ow, false, out int w0, out int w1, out int wc);
                        float delta = s[oh * rg.OW + ow] / (rg.Divisor != 0 ? rg.Divisor : (float)(hc * wc));
                        for (int ih = h0; ih < h1; ih++)
                        {
                            float* row = d + (long)ih * rg.W;
                            for (int iw = w0; iw < w1; iw++) row[iw] += delta;
                        }
                    }
                }
            }
        });
    }

    // ---- shared pieces -----------------------------------------------------------------------------------------

    /// <summary>The first position start + j·dilation (j ≥ 0) that is not negative.</summary>
    static int FirstInside(int start, int dilation) => start >= 0 ? start : start + (-start + dilation - 1) / dilation * dilation;

    static int FloorDiv(int a, int b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    /// <summary>Per-tap column bookkeeping, the same for every row and plane: tap kw reads iw = ow·SW + Shift[kw], which
    /// is phase Phase[kw] at offset ow + Offset[kw], inside the image for ow in [Lo[kw], Hi[kw]).</summary>
    sealed class Taps
    {
        public required int[] Shift, Phase, Offset, Lo, Hi;
        /// <summary>Max: the first column of each output's window inside the image (PyTorch's starting index).</summary>
        public required int[] FirstColumn;
        /// <summary>Average: the divisor's column factor of each output (window width, clipped as avg_pool2d does).</summary>
        public required int[] ColumnCount;
        /// <summary>Average: true where an output's window has no column inside the image (its average is 0).</summary>
        public required bool[] ColumnEmpty;
        public required int PhaseLength;

        public static Taps Create(in Pool2dGeometry g, bool forMax)
        {
            int kw = g.KW;
            var t = new Taps
            {
                Shift = new int[kw], Phase = new int[kw], Offset = new int[kw], Lo = new int[kw], Hi = new int[kw],
                FirstColumn = new int[g.OW], ColumnCount = new int[g.OW], ColumnEmpty = new bool[g.OW],
                PhaseLength = (g.W + g.SW - 1) / g.SW + 8,
            };
            int dw = forMax ? g.DW : 1;
            for (int k = 0; k < kw; k++)
            {
                int shift = k * dw - g.PW;
                t.Shift[k] = shift;
                t.Phase[k] = shift - FloorDiv(shift, g.SW) * g.SW;
                t.Offset[k] = FloorDiv(shift, g.SW);
                int lo = shift >= 0 ? 0 : (-shift + g.SW - 1) / g.SW;
                int last = g.W - 1 - shift;
                int hi = last < 0 ? 0 : Math.Min(g.OW, last / g.SW + 1);
                t.Lo[k] = Math.Min(lo, hi);
                t.Hi[k] = hi;
            }
            for (int ow = 0; ow < g.OW; ow++)
            {
                t.FirstColumn[ow] = FirstInside(ow * g.SW - g.PW, dw);
                if (!forMax)
                {
                    g.AvgWindow(ow, false, out int w0, out int w1, out int count);
                    t.ColumnCount[ow] = count;
                    t.ColumnEmpty[ow] = w0 >= w1;
                }
            }
            return t;
        }
    }

    /// <summary>One thread's row buffers: the input row's phases, the running max/sum row, its indices, divisors.</summary>
    sealed class RowBuffers(Pool2dGeometry g)
    {
        public readonly float[] Phases = new float[g.SW == 1 ? 1 : g.SW * ((g.W + g.SW - 1) / g.SW + 8)];
        public readonly float[] Row = new float[g.OW + 8];
        public readonly int[] Index = new int[g.OW + 8];
        public readonly float[] Divisors = new float[g.OW + 8];
    }

    /// <summary>Splits a row of w floats into s phases of <paramref name="phaseLength"/> slots: phases[r·len + j] = x[j·s + r].
    /// Nothing to do for s = 1 (the row itself is read).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Split(float* x, float* phases, int w, int s, int phaseLength)
    {
        if (s == 1) return;
        int j = 0;
        if (s == 2 && Avx2.IsSupported)
        {
            float* even = phases, odd = phases + phaseLength;
            for (; 2 * j + 16 <= w; j += 8)
            {
                var a = Avx.LoadVector256(x + 2 * j);
                var b = Avx.LoadVector256(x + 2 * j + 8);
                var e = Avx.Shuffle(a, b, 0b10_00_10_00);   // a0 a2 b0 b2 | a4 a6 b4 b6
                var o = Avx.Shuffle(a, b, 0b11_01_11_01);   // a1 a3 b1 b3 | a5 a7 b5 b7
                Avx.Store(even + j, Avx2.Permute4x64(e.AsDouble(), 0b11_01_10_00).AsSingle());
                Avx.Store(odd + j, Avx2.Permute4x64(o.AsDouble(), 0b11_01_10_00).AsSingle());
            }
        }
        for (int r = 0; r < s; r++)
        {
            float* ph = phases + r * phaseLength;
            for (int jj = j; jj * s + r < w; jj++) ph[jj] = x[jj * s + r];
        }
    }
}
