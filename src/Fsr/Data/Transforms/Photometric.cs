using System.Numerics;

namespace FsrNative.Data.Transforms;

/// <summary>
/// torchvision's tensor formulas for colour adjustment on float RGB images in [0, 1] (CHW), in place:
/// brightness <c>clamp(f·x)</c>; contrast <c>clamp(f·x + (1−f)·mean(gray(x)))</c>; saturation
/// <c>clamp(f·x + (1−f)·gray(x))</c>; hue: RGB→HSV, h ← (h + f) mod 1, HSV→RGB (torchvision's _rgb2hsv/_hsv2rgb);
/// gray = 0.2989 R + 0.587 G + 0.114 B. Plus normalisation and horizontal flip.
/// </summary>
public static class Photometric
{
    public const float GrayR = 0.2989f, GrayG = 0.587f, GrayB = 0.114f;

    public static void Brightness(ImageF img, float f)
    {
        var d = img.Data.AsSpan();
        int i = 0, vw = Vector<float>.Count;
        var vf = new Vector<float>(f);
        for (; i <= d.Length - vw; i += vw)
            Vector.Min(Vector.Max(new Vector<float>(d.Slice(i)) * vf, Vector<float>.Zero), Vector<float>.One).CopyTo(d.Slice(i));
        for (; i < d.Length; i++) d[i] = Math.Clamp(d[i] * f, 0f, 1f);
    }

    /// <summary>Mean of the grayscale image (the contrast reference), accumulated in double.</summary>
    public static float GrayMean(ImageF img)
    {
        var r = img.Plane(0); var g = img.Plane(1); var b = img.Plane(2);
        double s = 0;
        for (int i = 0; i < r.Length; i++) s += GrayR * r[i] + GrayG * g[i] + GrayB * b[i];
        return (float)(s / r.Length);
    }

    public static void Contrast(ImageF img, float f)
    {
        float mean = GrayMean(img);
        Blend(img.Data, f, (1 - f) * mean);
    }

    /// <summary>x ← clamp(f·x + add), vectorised.</summary>
    static void Blend(Span<float> d, float f, float add)
    {
        int i = 0, vw = Vector<float>.Count;
        var vf = new Vector<float>(f); var va = new Vector<float>(add);
        for (; i <= d.Length - vw; i += vw)
            Vector.Min(Vector.Max(new Vector<float>(d.Slice(i)) * vf + va, Vector<float>.Zero), Vector<float>.One).CopyTo(d.Slice(i));
        for (; i < d.Length; i++) d[i] = Math.Clamp(d[i] * f + add, 0f, 1f);
    }

    public static void Saturation(ImageF img, float f)
    {
        var r = img.Plane(0); var g = img.Plane(1); var b = img.Plane(2);
        int i = 0, n = r.Length, vw = Vector<float>.Count;
        var vf = new Vector<float>(f); var vg = new Vector<float>(1 - f);
        var cr = new Vector<float>(GrayR); var cg = new Vector<float>(GrayG); var cb = new Vector<float>(GrayB);
        for (; i <= n - vw; i += vw)
        {
            var R = new Vector<float>(r.Slice(i)); var G = new Vector<float>(g.Slice(i)); var B = new Vector<float>(b.Slice(i));
            var gray = (cr * R + cg * G + cb * B) * vg;
            Vector.Min(Vector.Max(R * vf + gray, Vector<float>.Zero), Vector<float>.One).CopyTo(r.Slice(i));
            Vector.Min(Vector.Max(G * vf + gray, Vector<float>.Zero), Vector<float>.One).CopyTo(g.Slice(i));
            Vector.Min(Vector.Max(B * vf + gray, Vector<float>.Zero), Vector<float>.One).CopyTo(b.Slice(i));
        }
        for (; i < n; i++)
        {
            float gray = (GrayR * r[i] + GrayG * g[i] + GrayB * b[i]) * (1 - f);
            r[i] = Math.Clamp(r[i] * f + gray, 0f, 1f);
            g[i] = Math.Clamp(g[i] * f + gray, 0f, 1f);
            b[i] = Math.Clamp(b[i] * f + gray, 0f, 1f);
        }
    }

    /// <summary>torchvision's adjust_hue (hue factor in [−0.5, 0.5]).</summary>
    public static void Hue(ImageF img, float hueFactor)
    {
        var rp = img.Plane(0); var gp = img.Plane(1); var bp = img.Plane(2);
        for (int i = 0; i < rp.Length; i++)
        {
            var (h, s, v) = RgbToHsv(rp[i], gp[i], bp[i]);
            h = Remainder(h + hueFactor, 1f);
            var (r, g, b) = HsvToRgb(h, s, v);
            rp[i] = r; gp[i] = g; bp[i] = b;
        }
    }

    /// <summary>Python's % on floats (result has the sign of the divisor), as torch.remainder.</summary>
    static float Remainder(float a, float m)
    {
        float r = a - MathF.Floor(a / m) * m;
        return r;
    }

    /// <summary>torchvision's _rgb2hsv.</summary>
    public static (float h, float s, float v) RgbToHsv(float r, float g, float b)
    {
        float maxc = MathF.Max(r, MathF.Max(g, b)), minc = MathF.Min(r, MathF.Min(g, b));
        bool eqc = maxc == minc;
        float cr = maxc - minc;
        float s = cr / (eqc ? 1f : maxc);
        float div = eqc ? 1f : cr;
        float rc = (maxc - r) / div, gc = (maxc - g) / div, bc = (maxc - b) / div;
        float hr = maxc == r ? bc - gc : 0f;
        float hg = maxc == g && maxc != r ? 2f + rc - bc : 0f;
        float hb = maxc != g && maxc != r ? 4f + gc - rc : 0f;
        float h = hr + hg + hb;
        h = FMod(h / 6f + 1f, 1f);
        return (h, s, maxc);
    }

    /// <summary>C's fmod (sign of the dividend), as torch.fmod.</summary>
    static float FMod(float a, float m) => a % m;

    /// <summary>torchvision's _hsv2rgb.</summary>
    public static (float r, float g, float b) HsvToRgb(float h, float s, float v)
    {
        float fi = MathF.Floor(h * 6f);
        float f = h * 6f - fi;
        int i = ((int)fi % 6 + 6) % 6;
        float p = Math.Clamp(v * (1f - s), 0f, 1f);
        float q = Math.Clamp(v * (1f - s * f), 0f, 1f);
        float t = Math.Clamp(v * (1f - s * (1f - f)), 0f, 1f);
        return i switch
        {
            0 => (v, t, p),
            1 => (q, v, p),
            2 => (p, v, t),
            3 => (p, q, v),
            4 => (t, p, v),
            _ => (v, p, q),
        };
    }

    /// <summary>Solarisation (PIL's threshold 128 on 8-bit values): x ← 1 − x where x ≥ 128/255.</summary>
    public static void Solarize(ImageF img, float threshold = 128f / 255f)
    {
        var d = img.Data;
        for (int i = 0; i < d.Length; i++) if (d[i] >= threshold) d[i] = 1f - d[i];
    }

    /// <summary>Gaussian blur with standard deviation <paramref name="sigma"/> (pixels), separable, kernel radius ⌈3σ⌉, edges replicated.</summary>
    public static void GaussianBlur(ImageF img, float sigma)
    {
        int r = Math.Max(1, (int)MathF.Ceiling(3 * sigma));
        var k = new float[2 * r + 1];
        float sum = 0;
        for (int i = -r; i <= r; i++) { k[i + r] = MathF.Exp(-i * i / (2 * sigma * sigma)); sum += k[i + r]; }
        for (int i = 0; i < k.Length; i++) k[i] /= sum;
        var tmp = new float[Math.Max(img.W, img.H)];
        for (int c = 0; c < img.C; c++)
        {
            for (int y = 0; y < img.H; y++)
            {
                var row = img.Row(c, y);
                for (int x = 0; x < img.W; x++)
                {
                    float s = 0;
                    for (int j = -r; j <= r; j++) s += k[j + r] * row[Math.Clamp(x + j, 0, img.W - 1)];
                    tmp[x] = s;
                }
                tmp.AsSpan(0, img.W).CopyTo(row);
            }
            var plane = img.Plane(c);
            for (int x = 0; x < img.W; x++)
            {
                for (int y = 0; y < img.H; y++)
                {
                    float s = 0;
                    for (int j = -r; j <= r; j++) s += k[j + r] * plane[Math.Clamp(y + j, 0, img.H - 1) * img.W + x];
                    tmp[y] = s;
                }
                for (int y = 0; y < img.H; y++) plane[y * img.W + x] = tmp[y];
            }
        }
    }

    public static void FlipHorizontal(ImageF img)
    {
        for (int c = 0; c < img.C; c++)
            for (int y = 0; y < img.H; y++) img.Row(c, y).Reverse();
    }

    public static void FlipHorizontal(Span<byte> mask, int width)
    {
        for (int y = 0; y < mask.Length / width; y++) mask.Slice(y * width, width).Reverse();
    }

    /// <summary>ImageNet statistics (RGB).</summary>
    public static readonly float[] ImageNetMean = [0.485f, 0.456f, 0.406f], ImageNetStd = [0.229f, 0.224f, 0.225f];

    /// <summary>Writes (x − mean[c]) / std[c] into <paramref name="dst"/> (CHW, same size), vectorised.</summary>
    public static void Normalize(ImageF img, Span<float> dst, ReadOnlySpan<float> mean, ReadOnlySpan<float> std)
    {
        if (dst.Length != img.Data.Length) throw new ArgumentException($"Normalize: destination holds {dst.Length} values, image {img.Data.Length}");
        int n = img.PlaneSize, vw = Vector<float>.Count;
        for (int c = 0; c < img.C; c++)
        {
            var src = img.Plane(c); var d = dst.Slice(c * n, n);
            float sd = std[c], m = mean[c];
            var vs = new Vector<float>(sd); var vm = new Vector<float>(m);
            int i = 0;
            for (; i <= n - vw; i += vw) ((new Vector<float>(src.Slice(i)) - vm) / vs).CopyTo(d.Slice(i));
            for (; i < n; i++) d[i] = (src[i] - m) / sd;
        }
    }
}
