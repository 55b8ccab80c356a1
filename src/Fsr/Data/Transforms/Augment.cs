namespace FsrNative.Data.Transforms;

/// <summary>The random choices of one augmented view (for inspection, tests and logs).</summary>
public sealed record AugmentParams(int Top, int Left, int Height, int Width, bool Flip, bool Jitter, int[] JitterOrder,
    float Brightness, float Contrast, float Saturation, float Hue, float BlurSigma, bool Solarize);

/// <summary>
/// The training augmentation of spec §2.3 with its defaults: random resized crop (area scale [0.32, 1], ratio
/// [3/4, 4/3], torchvision's sampling: 10 tries then the centre-crop fallback; PIL bicubic), horizontal flip
/// p = 0.5, colour jitter p = 0.5 (brightness 0.4, contrast 0.4, saturation 0.2, hue 0.1, the four ops in random
/// order), ImageNet normalisation. Gaussian blur and solarisation are off by default (ablation only).
/// </summary>
public sealed record AugmentOptions
{
    public int Size { get; init; } = 448;
    public double ScaleMin { get; init; } = 0.32;
    public double ScaleMax { get; init; } = 1.0;
    public double RatioMin { get; init; } = 3.0 / 4.0;
    public double RatioMax { get; init; } = 4.0 / 3.0;
    public double FlipP { get; init; } = 0.5;
    public double JitterP { get; init; } = 0.5;
    public float Brightness { get; init; } = 0.4f;
    public float Contrast { get; init; } = 0.4f;
    public float Saturation { get; init; } = 0.2f;
    public float Hue { get; init; } = 0.1f;
    /// <summary>Ablation: Gaussian blur with this probability, σ ~ U[0.1, 2] (0 = off).</summary>
    public double BlurP { get; init; }
    /// <summary>Ablation: solarisation with this probability (0 = off).</summary>
    public double SolarizeP { get; init; }
    public float[] Mean { get; init; } = Photometric.ImageNetMean;
    public float[] Std { get; init; } = Photometric.ImageNetStd;
}

/// <summary>The augmentation steps as pure functions of a <see cref="PhiloxRandom"/> stream.</summary>
public static class Augment
{
    /// <summary>torchvision's RandomResizedCrop.get_params: returns (top, left, height, width).</summary>
    public static (int top, int left, int height, int width) CropParams(PhiloxRandom rng, int height, int width,
        double scaleMin, double scaleMax, double ratioMin, double ratioMax)
    {
        double area = (double)height * width;
        double logR0 = Math.Log(ratioMin), logR1 = Math.Log(ratioMax);
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double targetArea = area * rng.Uniform(scaleMin, scaleMax);
            double aspect = Math.Exp(rng.Uniform(logR0, logR1));
            int w = (int)Math.Round(Math.Sqrt(targetArea * aspect), MidpointRounding.ToEven);
            int h = (int)Math.Round(Math.Sqrt(targetArea / aspect), MidpointRounding.ToEven);
            if (0 < w && w <= width && 0 < h && h <= height)
            {
                int i = rng.NextInt(height - h + 1);
                int j = rng.NextInt(width - w + 1);
                return (i, j, h, w);
            }
        }
        return CenterFallback(height, width, ratioMin, ratioMax);
    }

    /// <summary>torchvision's fallback: the largest centred crop whose ratio is within [ratioMin, ratioMax].</summary>
    public static (int top, int left, int height, int width) CenterFallback(int height, int width, double ratioMin, double ratioMax)
    {
        double inRatio = (double)width / height;
        int w, h;
        if (inRatio < ratioMin) { w = width; h = (int)Math.Round(w / ratioMin, MidpointRounding.ToEven); }
        else if (inRatio > ratioMax) { h = height; w = (int)Math.Round(h * ratioMax, MidpointRounding.ToEven); }
        else { w = width; h = height; }
        return ((height - h) / 2, (width - w) / 2, h, w);
    }

    /// <summary>
    /// One augmented view of <paramref name="image"/>: the float image in [0, 1] before normalisation (size ×
    /// size), the transformed mask when one is given (nearest, flipped alike; photometric ops do not touch it), and
    /// the random choices. Draw order: crop, flip, jitter (apply?, order, four factors), blur, solarise.
    /// </summary>
    public static (ImageF image, byte[]? mask, AugmentParams p) View(ImageF image, byte[]? mask, PhiloxRandom rng, AugmentOptions o)
    {
        var (top, left, h, w) = CropParams(rng, image.H, image.W, o.ScaleMin, o.ScaleMax, o.RatioMin, o.RatioMax);
        var img = Resample.ResizedCropBicubic(image, top, left, h, w, o.Size, o.Size);
        byte[]? m = mask is null ? null : Resample.ResizedCropNearest(mask, image.W, image.H, top, left, h, w, o.Size, o.Size);
        bool flip = rng.Bernoulli(o.FlipP);
        if (flip)
        {
            Photometric.FlipHorizontal(img);
            if (m is not null) Photometric.FlipHorizontal(m, o.Size);
        }
        bool jitter = rng.Bernoulli(o.JitterP);
        int[] order = [];
        float b = 1, c = 1, s = 1, hue = 0;
        if (jitter)
        {
            order = rng.Permutation(4);
            b = (float)rng.Uniform(Math.Max(0, 1 - o.Brightness), 1 + o.Brightness);
            c = (float)rng.Uniform(Math.Max(0, 1 - o.Contrast), 1 + o.Contrast);
            s = (float)rng.Uniform(Math.Max(0, 1 - o.Saturation), 1 + o.Saturation);
            hue = (float)rng.Uniform(-o.Hue, o.Hue);
            foreach (int op in order)
            {
                switch (op)
                {
                    case 0: Photometric.Brightness(img, b); break;
                    case 1: Photometric.Contrast(img, c); break;
                    case 2: Photometric.Saturation(img, s); break;
                    default: Photometric.Hue(img, hue); break;
                }
            }
        }
        float sigma = 0;
        if (o.BlurP > 0 && rng.Bernoulli(o.BlurP))
        {
            sigma = (float)rng.Uniform(0.1, 2.0);
            Photometric.GaussianBlur(img, sigma);
        }
        bool sol = o.SolarizeP > 0 && rng.Bernoulli(o.SolarizeP);
        if (sol) Photometric.Solarize(img);
        return (img, m, new AugmentParams(top, left, h, w, flip, jitter, order, b, c, s, hue, sigma, sol));
    }
}
