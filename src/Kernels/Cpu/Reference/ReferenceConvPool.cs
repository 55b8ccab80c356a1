using System.Numerics;

namespace FsrNative.Kernels.Cpu.Reference;

/// <summary>
/// Plain convolution and pooling, generic over the float type: the definitions the SIMD kernels (CpuConv2d,
/// CpuPool2d) are tested against, and the whole compute path of Float64 tensors (gradient checks). Direct loops, no
/// im2col; every sum runs in a fixed order. Shapes and index conventions as <see cref="Conv2dGeometry"/> and
/// <see cref="Pool2dGeometry"/> (NCHW, contiguous). Legend: n image, c input channel, o output channel, (ih, iw)
/// input position, (oh, ow) output position, (kh, kw) kernel tap.
/// </summary>
public static class ReferenceConvPool<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    // ---- convolution ------------------------------------------------------------------------------------------

    /// <summary>y[n,o,oh,ow] = bias[o] + Σ_{c,kh,kw} w[o,c,kh,kw] · x[n,c,ih,iw] (zero padding); bias may be empty.</summary>
    public static void Conv2d(ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> bias, Span<T> y, in Conv2dGeometry g)
    {
        for (int n = 0; n < g.N; n++)
            for (int o = 0; o < g.O; o++)
                for (int oh = 0; oh < g.OH; oh++)
                    for (int ow = 0; ow < g.OW; ow++)
                    {
                        T s = T.Zero;
                        for (int c = 0; c < g.C; c++)
                            for (int kh = 0; kh < g.KH; kh++)
                            {
                                int ih = oh * g.SH - g.PH + kh * g.DH;
                                if ((uint)ih >= (uint)g.H) continue;
                                for (int kw = 0; kw < g.KW; kw++)
                                {
                                    int iw = ow * g.SW - g.PW + kw * g.DW;
                                    if ((uint)iw >= (uint)g.W) continue;
                                    s += w[((o * g.C + c) * g.KH + kh) * g.KW + kw] * x[((n * g.C + c) * g.H + ih) * g.W + iw];
                                }
                            }
                        y[((n * g.O + o) * g.OH + oh) * g.OW + ow] = bias.IsEmpty ? s : s + bias[o];
                    }
    }

    /// <summary>gx[n,c,ih,iw] = Σ over the (o, oh, ow, kh, kw) that read it of w[o,c,kh,kw] · gy[n,o,oh,ow].</summary>
    public static void Conv2dBackwardInput(ReadOnlySpan<T> gy, ReadOnlySpan<T> w, Span<T> gx, in Conv2dGeometry g)
    {
        gx.Clear();
        for (int n = 0; n < g.N; n++)
            for (int o = 0; o < g.O; o++)
                for (int oh = 0; oh < g.OH; oh++)
                    for (int ow = 0; ow < g.OW; ow++)
                    {
                        T gv = gy[((n * g.O + o) * g.OH + oh) * g.OW + ow];
                        for (int c = 0; c < g.C; c++)
                            for (int kh = 0; kh < g.KH; kh++)
                            {
                                int ih = oh * g.SH - g.PH + kh * g.DH;
                                if ((uint)ih >= (uint)g.H) continue;
                                for (int kw = 0; kw < g.KW; kw++)
                                {
                                    int iw = ow * g.SW - g.PW + kw * g.DW;
                                    if ((uint)iw >= (uint)g.W) continue;
                                    gx[((n * g.C + c) * g.H + ih) * g.W + iw] += w[((o * g.C + c) * g.KH + kh) * g.KW + kw] * gv;
                                }
                            }
                    }
    }

    /// <summary>gw[o,c,kh,kw] = Σ_{n,oh,ow} gy[n,o,oh,ow] · x[n,c,ih,iw].</summary>
    public static void Conv2dBackwardWeight(ReadOnlySpan<T> x, ReadOnlySpan<T> gy, Span<T> gw, in Conv2dGeometry g)
    {
        for (int o = 0; o < g.O; o++)
            for (int c = 0; c < g.C; c++)
                for (int kh = 0; kh < g.KH; kh++)
                    for (int kw = 0; kw < g.KW; kw++)
                    {
                        T s = T.Zero;
                        for (int n = 0; n < g.N; n++)
                            for (int oh = 0; oh < g.OH; oh++)
                            {
                                int ih = oh * g.SH - g.PH + kh * g.DH;
                                if ((uint)ih >= (uint)g.H) continue;
                                for (int ow = 0; ow < g.OW; ow++)
                                {
                                    int iw = ow * g.SW - g.PW + kw * g.DW;
                                    if ((uint)iw >= (uint)g.W) continue;
                                    s += gy[((n * g.O + o) * g.OH + oh) * g.OW + ow] * x[((n * g.C + c) * g.H + ih) * g.W + iw];
                                }
                            }
                        gw[((o * g.C + c) * g.KH + kh) * g.KW + kw] = s;
                    }
    }

    // ---- pooling ----------------------------------------------------------------------------------------------

    /// <summary>
    /// Max over each window, as PyTorch: the running maximum starts at −∞ with the index of the window's first
    /// position inside the image, and a value replaces it when it is greater or NaN (so the first of equal maxima
    /// wins, and the last NaN). Indices are flat within the plane: ih·W + iw.
    /// </summary>
    public static void MaxPool2d(ReadOnlySpan<T> x, Span<T> y, Span<int> indices, in Pool2dGeometry g)
    {
        for (int plane = 0; plane < g.Planes; plane++)
        {
            var xp = x.Slice(plane * g.H * g.W, g.H * g.W);
            for (int oh = 0; oh < g.OH; oh++)
                for (int ow = 0; ow < g.OW; ow++)
                {
                    int h0 = FirstInside(oh * g.SH - g.PH, g.DH), w0 = FirstInside(ow * g.SW - g.PW, g.DW);
                    T max = T.NegativeInfinity;
                    int index = h0 * g.W + w0;
                    for (int kh = 0; kh < g.KH; kh++)
                    {
                        int ih = oh * g.SH - g.PH + kh * g.DH;
                        if ((uint)ih >= (uint)g.H) continue;
                        for (int kw = 0; kw < g.KW; kw++)
                        {
                            int iw = ow * g.SW - g.PW + kw * g.DW;
                            if ((uint)iw >= (uint)g.W) continue;
                            T v = xp[ih * g.W + iw];
                            if (v > max || T.IsNaN(v)) { max = v; index = ih * g.W + iw; }
                        }
                    }
                    int o = (plane * g.OH + oh) * g.OW + ow;
                    y[o] = max;
                    indices[o] = index;
                }
        }
    }

    /// <summary>The first position start + j·dilation (j ≥ 0) that is not negative.</summary>
    public static int FirstInside(int start, int dilation) => start >= 0 ? start : start + (-start + dilation - 1) / dilation * dilation;

    /// <summary>gx = 0, then gx[plane, indices[o]] += gy[o] for the outputs o of each plane in order.</summary>
    public static void MaxPool2dBackward(ReadOnlySpan<T> gy, ReadOnlySpan<int> indices, Span<T> gx, in Pool2dGeometry g)
    {
        gx.Clear();
        int hw = g.H * g.W, ohw = g.OH * g.OW;
        for (int plane = 0; plane < g.Planes; plane++)
            for (int o = 0; o < ohw; o++)
            {
                int i = indices[plane * ohw + o];
                if ((uint)i >= (uint)hw)
                    throw new IndexOutOfRangeException($"max_pool2d_backward: index {i} at output {plane * ohw + o} is outside the {g.H}×{g.W} plane");
                gx[plane * hw + i] += gy[plane * ohw + o];
            }
    }

    /// <summary>Average over each window (sum in row-major window order, then one division by the divisor).</summary>
    public static void AvgPool2d(ReadOnlySpan<T> x, Span<T> y, in Pool2dGeometry g)
    {
        for (int plane = 0; plane < g.Planes; plane++)
        {
            var xp = x.Slice(plane * g.H * g.W, g.H * g.W);
            for (int oh = 0; oh < g.OH; oh++)
            {
                g.AvgWindow(oh, true, out int h0, out int h1, out int hc);
                for (int ow = 0; ow < g.OW; ow++)
                {
                    g.AvgWindow(ow, false, out int w0, out int w1, out int wc);
                    T s = T.Zero;
                    for (int ih = h0; ih < h1; ih++)
                        for (int iw = w0; iw < w1; iw++) s += xp[ih * g.W + iw];
                    int divisor = g.Divisor != 0 ? g.Divisor : hc * wc;
                    y[(plane * g.OH + oh) * g.OW + ow] = h0 < h1 && w0 < w1 ? s / T.CreateChecked(divisor) : T.Zero;
                }
            }
        }
    }

    /// <summary>gx = 0, then each output's gy / divisor is added to every position of its window, outputs in order.</summary>
    public static void AvgPool2dBackward(ReadOnlySpan<T> gy, Span<T> gx, in Pool2dGeometry g)
    {
        gx.Clear();
        for (int plane = 0; plane < g.Planes; plane++)
        {
            var gp = gx.Slice(plane * g.H * g.W, g.H * g.W);
            for (int oh = 0; oh < g.OH; oh++)
            {
                g.AvgWindow(oh, true, out int h0, out int h1, out int hc);
                for (int ow = 0; ow < g.OW; ow++)
                {
                    g.AvgWindow(ow, false, out int w0, out int w1, out int wc);
                    int divisor = g.Divisor != 0 ? g.Divisor : hc * wc;
                    T d = gy[(plane * g.OH + oh) * g.OW + ow] / T.CreateChecked(divisor);
                    for (int ih = h0; ih < h1; ih++)
                        for (int iw = w0; iw < w1; iw++) gp[ih * g.W + iw] += d;
                }
            }
        }
    }
}
