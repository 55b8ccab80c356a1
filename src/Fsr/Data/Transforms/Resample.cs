using System.Numerics;

namespace FsrNative.Data.Transforms;

/// <summary>
/// Resampling of <see cref="ImageF"/> images and byte masks.
/// <list type="bullet">
/// <item><see cref="ResizedCropBicubic"/>: PIL's <c>img.crop(box).resize(size, BICUBIC)</c> — what torchvision's
/// RandomResizedCrop does on a PIL image: a separable convolution with PIL's bicubic kernel (a = −0.5), support
/// widened by the scale factor when downsampling (antialiasing), taps clipped to the crop and renormalised,
/// horizontal pass then vertical pass, each clipped to [0, 1] (as PIL clips to 8 bits; no 8-bit rounding here).</item>
/// <item><see cref="ResizeBilinear"/>: <c>F.interpolate(x, size, mode='bilinear', align_corners=False)</c>
/// without antialiasing (the in-training validation resize).</item>
/// <item><see cref="ResizedCropNearest"/>: PIL's NEAREST for masks.</item>
/// </list>
/// </summary>
public static class Resample
{
    /// <summary>PIL's bicubic kernel (a = −0.5), support 2.</summary>
    public static double Bicubic(double x)
    {
        const double a = -0.5;
        if (x < 0) x = -x;
        if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
        if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
        return 0;
    }

    /// <summary>Taps of one output sample: the first input index and normalised weights.</summary>
    public readonly record struct Taps(int[] Start, float[][] Weights);

    /// <summary>PIL's precompute_coeffs for input range [in0, in1) of an axis of length <paramref name="inSize"/>.</summary>
    public static Taps Coefficients(int inSize, double in0, double in1, int outSize)
    {
        double scale = (in1 - in0) / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = 2.0 * filterScale;
        var start = new int[outSize];
        var weights = new float[outSize][];
        for (int xx = 0; xx < outSize; xx++)
        {
            double center = in0 + (xx + 0.5) * scale;
            double ss = 1.0 / filterScale;
            int xmin = (int)(center - support + 0.5);
            if (xmin < 0) xmin = 0;
            int xmax = (int)(center + support + 0.5);
            if (xmax > inSize) xmax = inSize;
            xmax -= xmin;
            var k = new double[Math.Max(xmax, 0)];
            double ww = 0;
            for (int x = 0; x < xmax; x++)
            {
                double w = Bicubic((x + xmin - center + 0.5) * ss);
                k[x] = w; ww += w;
            }
            var kf = new float[k.Length];
            for (int x = 0; x < k.Length; x++) kf[x] = (float)(ww != 0 ? k[x] / ww : k[x]);
            start[xx] = xmin;
            weights[xx] = kf;
        }
        return new Taps(start, weights);
    }

    /// <summary>
    /// Crops rows [top, top+height) and columns [left, left+width) of <paramref name="src"/> (the box must lie inside
    /// the image) and resizes the crop to <paramref name="outH"/>×<paramref name="outW"/> with PIL's bicubic filter.
    /// </summary>
    public static ImageF ResizedCropBicubic(ImageF src, int top, int left, int height, int width, int outH, int outW)
    {
        if (top < 0 || left < 0 || height <= 0 || width <= 0 || top + height > src.H || left + width > src.W)
            throw new ArgumentException($"ResizedCropBicubic: box (top {top}, left {left}, {height}x{width}) is not inside the {src.H}x{src.W} image");
        var hx = Coefficients(width, 0, width, outW);
        var vy = Coefficients(height, 0, height, outH);
        // Horizontal pass: C × height × outW.
        var tmp = new float[src.C * height * outW];
        for (int c = 0; c < src.C; c++)
            for (int y = 0; y < height; y++)
            {
                var row = src.Row(c, top + y).Slice(left, width);
                var dst = tmp.AsSpan((c * height + y) * outW, outW);
                for (int x = 0; x < outW; x++)
                {
                    var w = hx.Weights[x];
                    var seg = row.Slice(hx.Start[x], w.Length);
                    float s = 0;
                    for (int k = 0; k < w.Length; k++) s += w[k] * seg[k];
                    dst[x] = Math.Clamp(s, 0f, 1f);
                }
            }
        // Vertical pass: rows are contiguous, so accumulate whole rows with SIMD.
        var result = new ImageF(src.C, outH, outW);
        for (int c = 0; c < src.C; c++)
            for (int y = 0; y < outH; y++)
            {
                var dst = result.Row(c, y);
                dst.Clear();
                var w = vy.Weights[y];
                for (int k = 0; k < w.Length; k++)
                    Axpy(w[k], tmp.AsSpan((c * height + vy.Start[y] + k) * outW, outW), dst);
                Clamp01(dst);
            }
        return result;
    }

    /// <summary>y += a·x, vectorised.</summary>
    public static void Axpy(float a, ReadOnlySpan<float> x, Span<float> y)
    {
        int i = 0, n = y.Length, vw = Vector<float>.Count;
        var va = new Vector<float>(a);
        for (; i <= n - vw; i += vw)
            (new Vector<float>(y.Slice(i)) + va * new Vector<float>(x.Slice(i))).CopyTo(y.Slice(i));
        for (; i < n; i++) y[i] += a * x[i];
    }

    public static void Clamp01(Span<float> x)
    {
        int i = 0, n = x.Length, vw = Vector<float>.Count;
        for (; i <= n - vw; i += vw)
            Vector.Min(Vector.Max(new Vector<float>(x.Slice(i)), Vector<float>.Zero), Vector<float>.One).CopyTo(x.Slice(i));
        for (; i < n; i++) x[i] = Math.Clamp(x[i], 0f, 1f);
    }

    /// <summary>Bilinear resize with <c>align_corners=False</c> and no antialiasing (torch's F.interpolate).</summary>
    public static ImageF ResizeBilinear(ImageF src, int outH, int outW)
    {
        if (outH <= 0 || outW <= 0) throw new ArgumentException($"ResizeBilinear: bad size {outH}x{outW}");
        var (x0, x1, lx) = LinearIndex(src.W, outW);
        var (y0, y1, ly) = LinearIndex(src.H, outH);
        var result = new ImageF(src.C, outH, outW);
        var rowA = new float[outW];
        var rowB = new float[outW];
        for (int c = 0; c < src.C; c++)
            for (int y = 0; y < outH; y++)
            {
                var a = src.Row(c, y0[y]); var b = src.Row(c, y1[y]);
                for (int x = 0; x < outW; x++)
                {
                    rowA[x] = a[x0[x]] + (a[x1[x]] - a[x0[x]]) * lx[x];
                    rowB[x] = b[x0[x]] + (b[x1[x]] - b[x0[x]]) * lx[x];
                }
                var dst = result.Row(c, y);
                float t = ly[y];
                for (int x = 0; x < outW; x++) dst[x] = rowA[x] * (1 - t) + rowB[x] * t;
            }
        return result;
    }

    static (int[] i0, int[] i1, float[] lambda) LinearIndex(int inSize, int outSize)
    {
        var i0 = new int[outSize]; var i1 = new int[outSize]; var l = new float[outSize];
        double scale = (double)inSize / outSize;
        for (int o = 0; o < outSize; o++)
        {
            double s = Math.Max((o + 0.5) * scale - 0.5, 0);
            int a = Math.Min((int)s, inSize - 1);
            i0[o] = a; i1[o] = Math.Min(a + 1, inSize - 1);
            l[o] = (float)(s - a);
        }
        return (i0, i1, l);
    }

    /// <summary>PIL's NEAREST resize of the crop box (for masks): source index = left + ⌊(x + 0.5)·scale⌋.</summary>
    public static byte[] ResizedCropNearest(ReadOnlySpan<byte> mask, int maskW, int maskH, int top, int left, int height, int width, int outH, int outW)
    {
        if (top < 0 || left < 0 || top + height > maskH || left + width > maskW)
            throw new ArgumentException($"ResizedCropNearest: box (top {top}, left {left}, {height}x{width}) is not inside the {maskH}x{maskW} mask");
        var result = new byte[outH * outW];
        double sx = (double)width / outW, sy = (double)height / outH;
        var xs = new int[outW];
        for (int x = 0; x < outW; x++) xs[x] = left + Math.Min((int)((x + 0.5) * sx), width - 1);
        for (int y = 0; y < outH; y++)
        {
            int srcY = top + Math.Min((int)((y + 0.5) * sy), height - 1);
            var srow = mask.Slice(srcY * maskW, maskW);
            for (int x = 0; x < outW; x++) result[y * outW + x] = srow[xs[x]];
        }
        return result;
    }
}
