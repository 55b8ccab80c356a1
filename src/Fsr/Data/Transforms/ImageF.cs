namespace FsrNative.Data.Transforms;

/// <summary>A float image in CHW layout (channel planes, row-major), values nominally in [0, 1] before normalisation.</summary>
public sealed class ImageF
{
    public ImageF(int channels, int height, int width, float[]? data = null)
    {
        if (channels <= 0 || height <= 0 || width <= 0) throw new ArgumentException($"ImageF: bad size {channels}x{height}x{width}");
        C = channels; H = height; W = width;
        Data = data ?? new float[channels * height * width];
        if (Data.Length != channels * height * width) throw new ArgumentException($"ImageF: {Data.Length} values do not fill {channels}x{height}x{width}");
    }

    public int C { get; }
    public int H { get; }
    public int W { get; }
    public float[] Data { get; }
    public int PlaneSize => H * W;

    public float this[int c, int y, int x]
    {
        get => Data[(c * H + y) * W + x];
        set => Data[(c * H + y) * W + x] = value;
    }

    public Span<float> Plane(int c) => Data.AsSpan(c * H * W, H * W);
    public Span<float> Row(int c, int y) => Data.AsSpan((c * H + y) * W, W);

    /// <summary>An 8-bit RGB image (HWC) as floats in [0, 1] (CHW): torchvision's ToTensor.</summary>
    public static ImageF FromRgb(RgbImage img)
    {
        var f = new ImageF(3, img.Height, img.Width);
        int n = img.Width * img.Height;
        var p = img.Pixels;
        var r = f.Plane(0); var g = f.Plane(1); var b = f.Plane(2);
        const float k = 1f / 255f;
        for (int i = 0; i < n; i++)
        {
            r[i] = p[3 * i] * k; g[i] = p[3 * i + 1] * k; b[i] = p[3 * i + 2] * k;
        }
        return f;
    }

    public ImageF Clone() => new(C, H, W, (float[])Data.Clone());
}
