// Convolution and pooling (NCHW, contiguous). All kernels are implicitly grouped with one work item per output
// element, grid-stride (launch extent = step ≤ total; the loop bound is the bounds check); no shared memory, no float
// atomics: every backward is written as a gather, each element summing its contributions in a fixed order.
//  * conv2d = im2col + the tiled GEMM of MatmulKernels (launched by IlgpuBackend.ConvPool):
//      Im2Col   col (images, K, P) with K = C·KH·KW rows (c, kh, kw) and P = OH·OW columns (oh, ow); zero padding.
//      FillBias y(n, o, p) = bias[o], before the forward GEMM accumulates onto it (beta = 1).
//      Col2Im   gx(n, c, ih, iw) = Σ_{kh, kw} gcol(n, (c, kh, kw), (oh, ow)) over the taps whose output position
//               (oh, ow) = ((ih + PH − kh·DH)/SH, (iw + PW − kw·DW)/SW) is whole and inside the output; taps in order.
//      The weight gradient is Σ_n gy_n · col_nᵀ (GEMMs accumulating with beta = 1, image after image), the input
//      gradient gcol = Wᵀ · gy_n then Col2Im.
//  * pooling over (planes, H, W) → (planes, OH, OW), Pool2dGeometry (window or adaptive windows):
//      MaxPool2d / AvgPool2d: one work item per output, window walked in row-major order (PyTorch's order and rules).
//      MaxPool2dBackward: per input element, Σ gy over the outputs (ascending) whose saved index is that element.
//      AvgPool2dBackward: per input element, Σ gy/divisor over the outputs (ascending) whose window contains it.
// Per-thread state is a handful of ints and one float accumulator; no local arrays.
using ILGPU;

namespace FsrNative.Kernels.Gpu;

public static class ConvPoolKernels
{
    /// <summary>col[e] for e &lt; total = images·K·P: col(i, k, p) = x(n0 + i, c, ih, iw) or 0 outside the image;
    /// x is read from element <paramref name="xOffset"/> (image n0).</summary>
    [GpuKernel]
    public static void Im2Col(Index1D index, int total, int step, ArrayView<float> x, int xOffset, ArrayView<float> col, Conv2dGeometry g)
    {
        int kk = g.KH * g.KW, k = g.C * kk, p = g.OH * g.OW;
        for (int e = index; e < total; e += step)
        {
            int pos = e % p, rest = e / p;
            int row = rest % k, img = rest / k;
            int c = row / kk, tap = row % kk;
            int kh = tap / g.KW, kw = tap % g.KW;
            int oh = pos / g.OW, ow = pos % g.OW;
            int ih = oh * g.SH - g.PH + kh * g.DH, iw = ow * g.SW - g.PW + kw * g.DW;
            float v = 0f;
            if ((uint)ih < (uint)g.H && (uint)iw < (uint)g.W)
                v = x[xOffset + ((img * g.C + c) * g.H + ih) * g.W + iw];
            col[e] = v;
        }
    }

    /// <summary>gx[gxOffset + e] for e &lt; total = images·C·H·W: the sum over taps (kh, kw), in order, of the gcol
    /// entries (images, K, P) that came from input element e.</summary>
    [GpuKernel]
    public static void Col2Im(Index1D index, int total, int step, ArrayView<float> gcol, ArrayView<float> gx, int gxOffset, Conv2dGeometry g)
    {
        int k = g.C * g.KH * g.KW, p = g.OH * g.OW;
        for (int e = index; e < total; e += step)
        {
            int iw = e % g.W, rest = e / g.W;
            int ih = rest % g.H;
            rest /= g.H;
            int c = rest % g.C, img = rest / g.C;
            float s = 0f;
            for (int kh = 0; kh < g.KH; kh++)
            {
                int th = ih + g.PH - kh * g.DH;
                if (th < 0 || th % g.SH != 0) continue;
                int oh = th / g.SH;
                if (oh >= g.OH) continue;
                for (int kw = 0; kw < g.KW; kw++)
                {
                    int tw = iw + g.PW - kw * g.DW;
                    if (tw < 0 || tw % g.SW != 0) continue;
                    int ow = tw / g.SW;
                    if (ow >= g.OW) continue;
                    s += gcol[(img * k + (c * g.KH + kh) * g.KW + kw) * p + oh * g.OW + ow];
                }
            }
            gx[gxOffset + e] = s;
        }
    }

    /// <summary>y[e] = bias[(e / plane) % channels] for e &lt; total: the bias broadcast over (N, O, OH·OW).</summary>
    [GpuKernel]
    public static void FillBias(Index1D index, int total, int step, ArrayView<float> y, ArrayView<float> bias, int plane, int channels)
    {
        for (int e = index; e < total; e += step)
        {
            y[e] = bias[e / plane % channels];
        }
    }

    /// <summary>The first position start + j·dilation (j ≥ 0) that is not negative.</summary>
    static int FirstInside(int start, int dilation) => start >= 0 ? start : start + (-start + dilation - 1) / dilation * dilation;

    /// <summary>Window maxima: y[e], indices[e] for e &lt; total = planes·OH·OW. The running maximum starts at −∞ with
    /// the index of the window's first position inside the image; a value replaces it when greater or NaN.</summary>
    [GpuKernel]
    public static void MaxPool2d(Index1D index, int total, int step, ArrayView<float> x, ArrayView<float> y, ArrayView<int> indices, Pool2dGeometry g)
    {
        for (int e = index; e < total; e += step)
        {
            int ow = e % g.OW, rest = e / g.OW;
            int oh = rest % g.OH, plane = rest / g.OH;
            int hs = oh * g.SH - g.PH, ws = ow * g.SW - g.PW;
            int planeBase = plane * g.H * g.W;
            float max = float.NegativeInfinity;
            int best = FirstInside(hs, g.DH) * g.W + FirstInside(ws, g.DW);
            for (int kh = 0; kh < g.KH; kh++)
            {
                int ih = hs + kh * g.DH;
                if ((uint)ih >= (uint)g.H) continue;
                for (int kw = 0; kw < g.KW; kw++)
                {
                    int iw = ws + kw * g.DW;
                    if ((uint)iw >= (uint)g.W) continue;
                    float v = x[planeBase + ih * g.W + iw];
                    if (v > max || GpuMath.IsNaN(v))
                    {
                        max = v;
                        best = ih * g.W + iw;
                    }
                }
            }
            y[e] = max;
            indices[e] = best;
        }
    }

    /// <summary>gx[e] for e &lt; total = planes·H·W: Σ gy[o] over the outputs o of the plane, ascending, whose window can
    /// hold element e and whose saved index is e's in-plane index.</summary>
    [GpuKernel]
    public static void MaxPool2dBackward(Index1D index, int total, int step, ArrayView<float> gy, ArrayView<int> indices, ArrayView<float> gx, Pool2dGeometry g)
    {
        for (int e = index; e < total; e += step)
        {
            int iw = e % g.W, rest = e / g.W;
            int ih = rest % g.H, plane = rest / g.H;
            int target = ih * g.W + iw;
            int ohLo = CeilDivClamp(ih + g.PH - (g.KH - 1) * g.DH, g.SH), ohHi = Last((ih + g.PH) / g.SH, g.OH);
            int owLo = CeilDivClamp(iw + g.PW - (g.KW - 1) * g.DW, g.SW), owHi = Last((iw + g.PW) / g.SW, g.OW);
            float s = 0f;
            for (int oh = ohLo; oh <= ohHi; oh++)
                for (int ow = owLo; ow <= owHi; ow++)
                {
                    int o = (plane * g.OH + oh) * g.OW + ow;
                    if (indices[o] == target) s += gy[o];
                }
            gx[e] = s;
        }
    }

    /// <summary>⌈a / b⌉ for b &gt; 0, and 0 for a ≤ 0.</summary>
    static int CeilDivClamp(int a, int b) => a <= 0 ? 0 : (a + b - 1) / b;

    /// <summary>min(v, size − 1).</summary>
    static int Last(int v, int size) => v < size - 1 ? v : size - 1;

    /// <summary>First row/column of window o (clipped to the image): PyTorch's avg_pool2d / adaptive_avg_pool2d.</summary>
    static int WindowStart(int o, int input, int output, int k, int s, int p, int adaptive)
    {
        if (adaptive != 0) return o * input / output;
        int start = o * s - p;
        return start < 0 ? 0 : start;
    }

    /// <summary>One past the last row/column of window o (clipped to the image).</summary>
    static int WindowEnd(int o, int input, int output, int k, int s, int p, int adaptive)
    {
        if (adaptive != 0) return ((o + 1) * input + output - 1) / output;
        int end = o * s - p + k;
        return end < input ? end : input;
    }

    /// <summary>The divisor's factor along one axis: the window's extent clipped to the padded image
    /// (count_include_pad) or to the image.</summary>
    static int WindowCount(int o, int input, int output, int k, int s, int p, int adaptive, int countIncludePad)
    {
        if (adaptive == 0 && countIncludePad != 0)
        {
            int start = o * s - p, end = start + k;
            int limit = input + p;
            return (end < limit ? end : limit) - start;
        }
        return WindowEnd(o, input, output, k, s, p, adaptive) - WindowStart(o, input, output, k, s, p, adaptive);
    }

    static float Divisor(int oh, int ow, Pool2dGeometry g)
    {
        if (g.Divisor != 0) return g.Divisor;
        int ch = WindowCount(oh, g.H, g.OH, g.KH, g.SH, g.PH, g.Adaptive, g.CountIncludePad);
        int cw = WindowCount(ow, g.W, g.OW, g.KW, g.SW, g.PW, g.Adaptive, g.CountIncludePad);
        return ch * cw;
    }

    /// <summary>Window averages: y[e] for e &lt; total = planes·OH·OW (row-major sum of the window, then one division;
    /// 0 for a window with no position inside the image).</summary>
    [GpuKernel]
    public static void AvgPool2d(Index1D index, int total, int step, ArrayView<float> x, ArrayView<float> y, Pool2dGeometry g)
    {
        for (int e = index; e < total; e += step)
        {
            int ow = e % g.OW, rest = e / g.OW;
            int oh = rest % g.OH, plane = rest / g.OH;
            int h0 = WindowStart(oh, g.H, g.OH, g.KH, g.SH, g.PH, g.Adaptive), h1 = WindowEnd(oh, g.H, g.OH, g.KH, g.SH, g.PH, g.Adaptive);
            int w0 = WindowStart(ow, g.W, g.OW, g.KW, g.SW, g.PW, g.Adaptive), w1 = WindowEnd(ow, g.W, g.OW, g.KW, g.SW, g.PW, g.Adaptive);
            int planeBase = plane * g.H * g.W;
            float s = 0f;
            for (int ih = h0; ih < h1; ih++)
                for (int iw = w0; iw < w1; iw++) s += x[planeBase + ih * g.W + iw];
            y[e] = h0 < h1 && w0 < w1 ? s / Divisor(oh, ow, g) : 0f;
        }
    }

    /// <summary>gx[e] for e &lt; total = planes·H·W: Σ gy[o] / divisor(o) over the outputs o of the plane, ascending,
    /// whose window contains element e.</summary>
    [GpuKernel]
    public static void AvgPool2dBackward(Index1D index, int total, int step, ArrayView<float> gy, ArrayView<float> gx, Pool2dGeometry g)
    {
        for (int e = index; e < total; e += step)
        {
            int iw = e % g.W, rest = e / g.W;
            int ih = rest % g.H, plane = rest / g.H;
            int ohLo, ohHi, owLo, owHi;
            if (g.Adaptive != 0)
            {
                ohLo = ih * g.OH / g.H; ohHi = Last(((ih + 1) * g.OH + g.H - 1) / g.H - 1, g.OH);
                owLo = iw * g.OW / g.W; owHi = Last(((iw + 1) * g.OW + g.W - 1) / g.W - 1, g.OW);
            }
            else
            {
                ohLo = CeilDivClamp(ih + g.PH - g.KH + 1, g.SH); ohHi = Last((ih + g.PH) / g.SH, g.OH);
                owLo = CeilDivClamp(iw + g.PW - g.KW + 1, g.SW); owHi = Last((iw + g.PW) / g.SW, g.OW);
            }
            float s = 0f;
            for (int oh = ohLo; oh <= ohHi; oh++)
            {
                int h0 = WindowStart(oh, g.H, g.OH, g.KH, g.SH, g.PH, g.Adaptive), h1 = WindowEnd(oh, g.H, g.OH, g.KH, g.SH, g.PH, g.Adaptive);
                if (ih < h0 || ih >= h1) continue;
                for (int ow = owLo; ow <= owHi; ow++)
                {
                    int w0 = WindowStart(ow, g.W, g.OW, g.KW, g.SW, g.PW, g.Adaptive), w1 = WindowEnd(ow, g.W, g.OW, g.KW, g.SW, g.PW, g.Adaptive);
                    if (iw < w0 || iw >= w1) continue;
                    s += gy[(plane * g.OH + oh) * g.OW + ow] / Divisor(oh, ow, g);
                }
            }
            gx[e] = s;
        }
    }
}
