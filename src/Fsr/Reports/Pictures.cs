using FsrNative.Data;

namespace FsrNative.Reports;

/// <summary>
/// Pictures of labels and CAMs as 8-bit RGB images (<see cref="RgbImage"/>, HWC), and their PNG files. Label maps use
/// the VOC colour map (the colours of VOC's own PNGs); the ignore value 255 is drawn white in pictures (as in the
/// synthetic dataset's contact sheet) and keeps VOC's palette entry in index PNGs. CAMs use viridis, a perceptually
/// uniform colour map that reads the same in greyscale and to colour-blind readers (no jet).
/// </summary>
public static class Pictures
{
    public static readonly Rgb IgnoreColour = new(255, 255, 255);

    /// <summary>The colour a label is drawn with (VOC palette; 255 white).</summary>
    public static Rgb LabelColour(int label) => label == ClassSet.Ignore ? IgnoreColour : ClassSet.VocPalette[label & 255];

    /// <summary>A label map (row-major bytes) as a colour picture.</summary>
    public static RgbImage Labels(ReadOnlySpan<byte> labels, int width, int height)
    {
        Check(labels.Length, width, height, "label picture");
        var px = new byte[labels.Length * 3];
        for (int i = 0; i < labels.Length; i++)
        {
            var c = LabelColour(labels[i]);
            px[3 * i] = c.R; px[3 * i + 1] = c.G; px[3 * i + 2] = c.B;
        }
        return new RgbImage(width, height, px);
    }

    /// <summary>The label map as an 8-bit index PNG with the VOC palette — the format of VOC's
    /// <c>SegmentationClass</c> files and of its evaluation server.</summary>
    public static byte[] LabelPng(ReadOnlySpan<byte> labels, int width, int height)
    {
        Check(labels.Length, width, height, "label PNG");
        return IndexPng.Encode(labels, width, height, ClassSet.VocPalette);
    }

    /// <summary>An RGB picture as PNG; <paramref name="palette"/> quantises to 256 colours (about half the size).</summary>
    public static byte[] Png(RgbImage image, bool palette = false) => ImageCodec.EncodePngRgb(image.Pixels, image.Width, image.Height, palette);

    /// <summary>A map of values in [0, 1] (clamped) in viridis.</summary>
    public static RgbImage Heat(ReadOnlySpan<float> values, int width, int height)
    {
        Check(values.Length, width, height, "heat map");
        var px = new byte[values.Length * 3];
        for (int i = 0; i < values.Length; i++)
        {
            var c = Colormap.Viridis(values[i]);
            px[3 * i] = c.R; px[3 * i + 1] = c.G; px[3 * i + 2] = c.B;
        }
        return new RgbImage(width, height, px);
    }

    /// <summary>
    /// A CAM over its image: the image in grey (so that its own colours do not compete with the map's), blended with
    /// the viridis colour of each value at <paramref name="alpha"/> — the classic overlay, legible on any image.
    /// </summary>
    public static RgbImage HeatOverlay(RgbImage image, ReadOnlySpan<float> values, float alpha = 0.6f)
    {
        Check(values.Length, image.Width, image.Height, "heat overlay");
        var px = new byte[values.Length * 3];
        var src = image.Pixels;
        float a = Math.Clamp(alpha, 0f, 1f);
        for (int i = 0; i < values.Length; i++)
        {
            float grey = 0.299f * src[3 * i] + 0.587f * src[3 * i + 1] + 0.114f * src[3 * i + 2];
            var c = Colormap.Viridis(values[i]);
            px[3 * i] = Blend(grey, c.R, a);
            px[3 * i + 1] = Blend(grey, c.G, a);
            px[3 * i + 2] = Blend(grey, c.B, a);
        }
        return new RgbImage(image.Width, image.Height, px);
    }

    /// <summary>Labels drawn over the image at <paramref name="alpha"/> (ignored pixels and background show the image).</summary>
    public static RgbImage LabelOverlay(RgbImage image, ReadOnlySpan<byte> labels, float alpha = 0.6f)
    {
        Check(labels.Length, image.Width, image.Height, "label overlay");
        var px = (byte[])image.Pixels.Clone();
        for (int i = 0; i < labels.Length; i++)
        {
            int l = labels[i];
            if (l == 0 || l == ClassSet.Ignore) continue;
            var c = LabelColour(l);
            px[3 * i] = Blend(px[3 * i], c.R, alpha);
            px[3 * i + 1] = Blend(px[3 * i + 1], c.G, alpha);
            px[3 * i + 2] = Blend(px[3 * i + 2], c.B, alpha);
        }
        return new RgbImage(image.Width, image.Height, px);
    }

    static byte Blend(float under, byte over, float a) => (byte)Math.Clamp(MathF.Round((1 - a) * under + a * over), 0, 255);

    static void Check(int n, int width, int height, string what)
    {
        if (width <= 0 || height <= 0 || n != width * height)
            throw new ArgumentException($"{what}: {n} values do not fill {width}x{height}");
    }
}

/// <summary>Colour maps for values in [0, 1].</summary>
public static class Colormap
{
    static readonly Rgb[] ViridisTable = Build(new ScottPlot.Colormaps.Viridis());

    /// <summary>Viridis (matplotlib's default), 256 steps; NaN and values outside [0, 1] are clamped (NaN → 0).</summary>
    public static Rgb Viridis(float value)
    {
        float v = float.IsNaN(value) ? 0f : Math.Clamp(value, 0f, 1f);
        return ViridisTable[(int)MathF.Round(v * 255f)];
    }

    static Rgb[] Build(ScottPlot.IColormap map)
    {
        var t = new Rgb[256];
        for (int i = 0; i < 256; i++)
        {
            var c = map.GetColor(i / 255.0);
            t[i] = new Rgb(c.R, c.G, c.B);
        }
        return t;
    }
}
