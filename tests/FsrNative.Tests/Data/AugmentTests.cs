using FsrNative.Data;
using FsrNative.Data.Transforms;
using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Data;

[Trait(Categories.Trait, DataCategory.Name)]
public class AugmentTests
{
    static ImageF Smooth(int h, int w, int seed = 0, float lo = 0.2f, float hi = 0.8f)
    {
        var img = new ImageF(3, h, w);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    img[c, y, x] = lo + (hi - lo) * (0.5f + 0.5f * MathF.Sin(0.37f * x + 0.23f * y * (c + 1) + seed + c));
        return img;
    }

    static void Close(float expected, float actual, float tol, string what) =>
        Assert.True(Math.Abs(expected - actual) <= tol, $"{what}: expected {expected}, got {actual}");

    [Fact]
    public void CropParamsFollowTorchvisionSampling()
    {
        var rng = new RandomKey(1, 0, 0, 0).Open();
        int fallbacks = 0;
        for (int t = 0; t < 2000; t++)
        {
            int H = 40 + t % 60, W = 30 + t % 77;
            var (i, j, h, w) = Augment.CropParams(rng, H, W, 0.32, 1.0, 3.0 / 4, 4.0 / 3);
            Assert.InRange(i, 0, H - h); Assert.InRange(j, 0, W - w);
            Assert.True(h >= 1 && w >= 1);
            double area = (double)h * w / (H * W), ratio = (double)w / h;
            if ((i, j, h, w) == Augment.CenterFallback(H, W, 3.0 / 4, 4.0 / 3)) { fallbacks++; continue; }
            // rounding w and h to integers moves area and ratio a little
            Assert.InRange(area, 0.32 * 0.9, 1.0);
            Assert.InRange(ratio, 0.75 * 0.93, 4.0 / 3 * 1.07);
        }
        Assert.True(fallbacks < 200, $"{fallbacks} fallbacks");
    }

    [Theory]
    [InlineData(100, 100, 100, 100, 0, 0)]   // within the ratio range: the whole image
    [InlineData(100, 400, 100, 133, 0, 133)] // too wide: h = height, w = round(h * 4/3)
    [InlineData(400, 100, 133, 100, 133, 0)] // too tall: w = width, h = round(w / (3/4))... = round(133.33)
    public void CenterFallbackMatchesTorchvision(int H, int W, int h, int w, int top, int left)
    {
        Assert.Equal((top, left, h, w), Augment.CenterFallback(H, W, 3.0 / 4, 4.0 / 3));
        // a ratio range no crop can meet forces the fallback after ten tries
        var rng = new RandomKey(2, 0, 0, 0).Open();
        Assert.Equal(Augment.CenterFallback(H, W, 50, 60), Augment.CropParams(rng, H, W, 0.32, 1, 50, 60));
    }

    /// <summary>The direct 2-D formula: out(y, x) = Σ_i Σ_j wy(i) wx(j) in(top + i, left + j) with PIL's
    /// normalised bicubic weights (a = −0.5, support × scale when downsampling), in double precision.</summary>
    static double[] DirectBicubic(ImageF src, int top, int left, int h, int w, int outH, int outW)
    {
        static (int start, double[] k)[] Weights(int inSize, int outSize)
        {
            double scale = (double)inSize / outSize, fs = Math.Max(scale, 1), support = 2 * fs;
            var res = new (int, double[])[outSize];
            for (int o = 0; o < outSize; o++)
            {
                double center = (o + 0.5) * scale;
                int a = Math.Max(0, (int)(center - support + 0.5)), b = Math.Min(inSize, (int)(center + support + 0.5));
                var k = new double[b - a];
                for (int t = 0; t < k.Length; t++)
                {
                    double x = Math.Abs((t + a - center + 0.5) / fs);
                    k[t] = x < 1 ? (1.5 * x - 2.5) * x * x + 1 : x < 2 ? -0.5 * (((x - 5) * x + 8) * x - 4) : 0;
                }
                double sum = k.Sum();
                res[o] = (a, k.Select(v => v / sum).ToArray());
            }
            return res;
        }
        var wy = Weights(h, outH); var wx = Weights(w, outW);
        var outv = new double[3 * outH * outW];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < outH; y++)
                for (int x = 0; x < outW; x++)
                {
                    double s = 0;
                    for (int a = 0; a < wy[y].k.Length; a++)
                        for (int b = 0; b < wx[x].k.Length; b++)
                            s += wy[y].k[a] * wx[x].k[b] * src[c, top + wy[y].start + a, left + wx[x].start + b];
                    outv[(c * outH + y) * outW + x] = s;
                }
        return outv;
    }

    [Theory]
    [InlineData(7, 5, 20, 24, 31, 29)]    // upsampling
    [InlineData(2, 3, 50, 44, 17, 13)]    // downsampling (antialiased: wider support)
    [InlineData(0, 0, 60, 60, 60, 60)]    // identity
    [InlineData(10, 1, 33, 57, 448, 448)] // the training size
    public void BicubicResizedCropMatchesTheDirectFormula(int top, int left, int h, int w, int outH, int outW)
    {
        var src = Smooth(60, 60);
        var got = Resample.ResizedCropBicubic(src, top, left, h, w, outH, outW);
        var want = DirectBicubic(src, top, left, h, w, outH, outW);
        for (int i = 0; i < want.Length; i++) Close((float)want[i], got.Data[i], 2e-5f, $"element {i}");
        if (h == outH && w == outW && top == 0)
            Assert.Equal(src.Data, got.Data);   // integer-aligned taps: weights (0, 1, 0)
    }

    [Fact]
    public void BicubicClampsOvershootToTheUnitRange()
    {
        var src = new ImageF(3, 8, 8);
        for (int c = 0; c < 3; c++) for (int y = 0; y < 8; y++) for (int x = 4; x < 8; x++) src[c, y, x] = 1;   // a hard edge rings
        var r = Resample.ResizedCropBicubic(src, 0, 0, 8, 8, 8, 37);
        Assert.All(r.Data, v => Assert.InRange(v, 0f, 1f));
        Assert.Contains(r.Data, v => v == 0f);
        Assert.Contains(r.Data, v => v == 1f);
    }

    [Fact]
    public void BilinearMatchesInterpolateAlignCornersFalse()
    {
        var src = Smooth(9, 13);
        var r = Resample.ResizeBilinear(src, 20, 7);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 20; y++)
                for (int x = 0; x < 7; x++)
                {
                    double sy = Math.Max((y + 0.5) * 9 / 20.0 - 0.5, 0), sx = Math.Max((x + 0.5) * 13 / 7.0 - 0.5, 0);
                    int y0 = (int)sy, x0 = (int)sx, y1 = Math.Min(y0 + 1, 8), x1 = Math.Min(x0 + 1, 12);
                    double ly = sy - y0, lx = sx - x0;
                    double v = (1 - ly) * ((1 - lx) * src[c, y0, x0] + lx * src[c, y0, x1]) + ly * ((1 - lx) * src[c, y1, x0] + lx * src[c, y1, x1]);
                    Close((float)v, r[c, y, x], 1e-5f, $"({c},{y},{x})");
                }
    }

    [Fact]
    public void NearestMaskCropFollowsPil()
    {
        var m = new byte[10 * 10];
        for (int i = 0; i < m.Length; i++) m[i] = (byte)i;
        var r = Resample.ResizedCropNearest(m, 10, 10, 2, 3, 4, 6, 8, 3);
        // source row = 2 + ⌊(y + 0.5)·4/8⌋, column = 3 + ⌊(x + 0.5)·6/3⌋
        for (int y = 0; y < 8; y++)
            for (int x = 0; x < 3; x++)
                Assert.Equal((2 + (int)((y + 0.5) * 0.5)) * 10 + 3 + (int)((x + 0.5) * 2), r[y * 3 + x]);
    }

    [Fact]
    public void ColourOpsMatchTorchvisionFormulas()
    {
        var src = Smooth(7, 11, 3, 0.05f, 0.95f);
        int n = 7 * 11;
        double Gray(ImageF im, int i) => 0.2989 * im.Data[i] + 0.587 * im.Data[n + i] + 0.114 * im.Data[2 * n + i];

        var b = src.Clone(); Photometric.Brightness(b, 1.3f);
        for (int i = 0; i < b.Data.Length; i++) Close((float)Math.Clamp(src.Data[i] * 1.3, 0, 1), b.Data[i], 1e-6f, "brightness");

        var c = src.Clone(); Photometric.Contrast(c, 0.7f);
        double mean = Enumerable.Range(0, n).Average(i => Gray(src, i));
        for (int i = 0; i < c.Data.Length; i++) Close((float)Math.Clamp(0.7 * src.Data[i] + 0.3 * mean, 0, 1), c.Data[i], 1e-6f, "contrast");

        var s = src.Clone(); Photometric.Saturation(s, 1.2f);
        for (int i = 0; i < s.Data.Length; i++) Close((float)Math.Clamp(1.2 * src.Data[i] - 0.2 * Gray(src, i % n), 0, 1), s.Data[i], 1e-6f, "saturation");

        var norm = new float[src.Data.Length];
        Photometric.Normalize(src, norm, Photometric.ImageNetMean, Photometric.ImageNetStd);
        for (int i = 0; i < norm.Length; i++)
            Close((src.Data[i] - Photometric.ImageNetMean[i / n]) / Photometric.ImageNetStd[i / n], norm[i], 1e-6f, "normalise");

        var f = src.Clone(); Photometric.FlipHorizontal(f);
        for (int ch = 0; ch < 3; ch++) for (int y = 0; y < 7; y++) for (int x = 0; x < 11; x++) Assert.Equal(src[ch, y, 10 - x], f[ch, y, x]);
    }

    [Theory]
    [InlineData(1f, 0f, 0f, 1f / 3, 0f, 1f, 0f)]     // red + 120° = green
    [InlineData(1f, 0f, 0f, 1f / 6, 1f, 1f, 0f)]     // red + 60° = yellow
    [InlineData(0f, 0f, 1f, 0.5f, 1f, 1f, 0f)]       // blue + 180° = yellow
    [InlineData(0.5f, 0.25f, 0.25f, -0.5f, 0.25f, 0.5f, 0.5f)]
    [InlineData(0.4f, 0.4f, 0.4f, 0.3f, 0.4f, 0.4f, 0.4f)]   // grey has no hue
    public void HueRotatesAroundTheColourWheel(float r, float g, float b, float shift, float er, float eg, float eb)
    {
        var img = new ImageF(3, 1, 1, [r, g, b]);
        Photometric.Hue(img, shift);
        Close(er, img.Data[0], 1e-5f, "r"); Close(eg, img.Data[1], 1e-5f, "g"); Close(eb, img.Data[2], 1e-5f, "b");
    }

    [Fact]
    public void HsvRoundTripAndKnownValues()
    {
        var (h, s, v) = Photometric.RgbToHsv(0.5f, 0.25f, 0.25f);
        Close(0f, h, 1e-6f, "h"); Close(0.5f, s, 1e-6f, "s"); Close(0.5f, v, 1e-6f, "v");
        (h, _, _) = Photometric.RgbToHsv(0.2f, 0.6f, 0.9f);   // hue of (0.2, 0.6, 0.9): (4 + (g'-r'))/6 with max = b
        Close((float)((4 + (0.9 - 0.6) / 0.7 - (0.9 - 0.2) / 0.7) / 6), h, 1e-6f, "h2");
        var rng = new RandomKey(4, 0, 0, 0).Open();
        for (int i = 0; i < 500; i++)
        {
            float r = rng.NextFloat(), g = rng.NextFloat(), b = rng.NextFloat();
            var (hh, ss, vv) = Photometric.RgbToHsv(r, g, b);
            var (r2, g2, b2) = Photometric.HsvToRgb(hh, ss, vv);
            Close(r, r2, 2e-6f, "r"); Close(g, g2, 2e-6f, "g"); Close(b, b2, 2e-6f, "b");
        }
    }

    [Fact]
    public void ViewsAreReproducibleFromTheirKeyAndIndependent()
    {
        var rgb = new byte[50 * 70 * 3];
        for (int i = 0; i < rgb.Length; i++) rgb[i] = (byte)(i * 31 % 251);
        var sample = new Sample(12, "x", new RgbImage(70, 50, rgb), null, [1f]);
        var t = new TrainTransform(new AugmentOptions { Size = 32, JitterP = 1, FlipP = 0.5 });
        var a = t.Apply(sample, 5, 2);
        var b = t.Apply(sample, 5, 2);
        Assert.Equal(2, a.Length);
        for (int v = 0; v < 2; v++) { Assert.Equal(a[v].Image, b[v].Image); Assert.Equal(a[v].Params, b[v].Params, ParamsEqual); }
        Assert.NotEqual(a[0].Image, a[1].Image);
        Assert.NotEqual(a[0].Image, t.Apply(sample, 5, 3)[0].Image);              // another epoch
        Assert.NotEqual(a[0].Image, t.Apply(sample, 6, 2)[0].Image);              // another seed
        Assert.NotEqual(a[0].Image, t.Apply(sample with { Index = 13 }, 5, 2)[0].Image);   // another sample
        // the same key through the public step function gives the same view
        var direct = t.ApplyView(ImageF.FromRgb(sample.Image), null, new RandomKey(5, 2, 12, 1).Open());
        Assert.Equal(a[1].Image, direct.Image);
        Assert.Equal(3 * 32 * 32, a[0].Image.Length);
        Assert.True(a[0].Params!.Jitter);
        Assert.Equal([0, 1, 2, 3], a[0].Params!.JitterOrder.Order());
        Assert.InRange(a[0].Params!.Brightness, 0.6f, 1.4f);
        Assert.InRange(a[0].Params!.Hue, -0.1f, 0.1f);
    }

    static bool ParamsEqual(AugmentParams? x, AugmentParams? y) =>
        x is not null && y is not null && x with { JitterOrder = [] } == y with { JitterOrder = [] } && x.JitterOrder.SequenceEqual(y.JitterOrder);

    [Fact]
    public void AViewIsTheComposedFormulaOfItsParameters()
    {
        var rgb = new byte[40 * 30 * 3];
        for (int i = 0; i < rgb.Length; i++) rgb[i] = (byte)(i * 17 % 253);
        var img = ImageF.FromRgb(new RgbImage(30, 40, rgb));
        var o = new AugmentOptions { Size = 24, JitterP = 1, FlipP = 1 };
        var (view, _, p) = Augment.View(img, null, new RandomKey(3, 0, 0, 0).Open(), o);
        var expect = Resample.ResizedCropBicubic(img, p.Top, p.Left, p.Height, p.Width, 24, 24);
        Photometric.FlipHorizontal(expect);
        foreach (int op in p.JitterOrder)
            switch (op)
            {
                case 0: Photometric.Brightness(expect, p.Brightness); break;
                case 1: Photometric.Contrast(expect, p.Contrast); break;
                case 2: Photometric.Saturation(expect, p.Saturation); break;
                default: Photometric.Hue(expect, p.Hue); break;
            }
        Assert.Equal(expect.Data, view.Data);
        // masks follow crop and flip only
        var mask = new byte[40 * 30];
        for (int i = 0; i < mask.Length; i++) mask[i] = (byte)(i % 30 < 15 ? 1 : 2);
        var (_, m, p2) = Augment.View(img, mask, new RandomKey(3, 0, 0, 0).Open(), o);
        var em = Resample.ResizedCropNearest(mask, 30, 40, p2.Top, p2.Left, p2.Height, p2.Width, 24, 24);
        Photometric.FlipHorizontal(em, 24);
        Assert.Equal(em, m);
    }

    [Fact]
    public void EvalTransformResizesAndNormalisesAndKeepsTheMask()
    {
        var rgb = new byte[20 * 10 * 3];
        var mask = new byte[20 * 10];
        var s = new Sample(0, "e", new RgbImage(10, 20, rgb), mask, [0f]);
        var v = new EvalTransform(16).Apply(s, 0, 0)[0];
        Assert.Equal((16, 16, 20, 10), (v.Height, v.Width, v.MaskHeight, v.MaskWidth));
        Close(-0.485f / 0.229f, v.Image[0], 1e-6f, "normalised black");
        var full = new EvalTransform().Apply(s, 0, 0)[0];
        Assert.Equal((20, 10), (full.Height, full.Width));
    }

    [Fact]
    public void AblationOpsBlurAndSolarise()
    {
        var img = Smooth(12, 12, 1, 0, 1);
        var sol = img.Clone(); Photometric.Solarize(sol);
        for (int i = 0; i < img.Data.Length; i++) Assert.Equal(img.Data[i] >= 128f / 255 ? 1 - img.Data[i] : img.Data[i], sol.Data[i]);
        var flat = new ImageF(3, 9, 9); Array.Fill(flat.Data, 0.3f);
        Photometric.GaussianBlur(flat, 1.5f);
        Assert.All(flat.Data, v => Close(0.3f, v, 1e-6f, "blur of a constant"));
        var dot = new ImageF(3, 9, 9); dot[0, 4, 4] = 1;
        Photometric.GaussianBlur(dot, 1f);
        Close(1f, dot.Plane(0).ToArray().Sum(), 1e-5f, "blur keeps the mass");
        Close(dot[0, 4, 3], dot[0, 3, 4], 1e-7f, "isotropic");
    }
}
