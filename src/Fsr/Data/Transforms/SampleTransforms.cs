namespace FsrNative.Data.Transforms;

/// <summary>One transformed view of a sample: a normalised CHW image and, when asked for, its mask.</summary>
public sealed record ViewData(float[] Image, int Height, int Width, byte[]? Mask, int MaskHeight, int MaskWidth, AugmentParams? Params);

/// <summary>Turns a decoded sample into the views a batch holds. Implementations must be pure functions of
/// (sample, seed, epoch) and thread-safe: the loader calls them from several worker threads.</summary>
public interface ISampleTransform
{
    /// <summary>Views per sample (2 for training, 1 for evaluation).</summary>
    int ViewCount { get; }
    ViewData[] Apply(Sample sample, ulong seed, long epoch);
}

/// <summary>
/// The training transform (spec §2.3): two independent views, each with its own Philox stream keyed by
/// (seed, epoch, sample index, view). Masks, when the sample carries one, follow the geometric steps (nearest).
/// </summary>
public sealed class TrainTransform(AugmentOptions? options = null, int views = 2) : ISampleTransform
{
    public AugmentOptions Options { get; } = options ?? new AugmentOptions();
    public int ViewCount { get; } = views is >= 1 and <= 15 ? views : throw new ArgumentOutOfRangeException(nameof(views), views, "1..15 views");

    public ViewData[] Apply(Sample sample, ulong seed, long epoch)
    {
        var img = ImageF.FromRgb(sample.Image);
        var result = new ViewData[ViewCount];
        for (int v = 0; v < ViewCount; v++)
            result[v] = ApplyView(img, sample.Mask, new RandomKey(seed, epoch, sample.Index, v).Open());
        return result;
    }

    /// <summary>One view from an explicit stream (tests, tools).</summary>
    public ViewData ApplyView(ImageF image, byte[]? mask, PhiloxRandom rng)
    {
        var (view, m, p) = Augment.View(image, mask, rng, Options);
        var norm = new float[view.Data.Length];
        Photometric.Normalize(view, norm, Options.Mean, Options.Std);
        return new ViewData(norm, view.H, view.W, m, m is null ? 0 : view.H, m is null ? 0 : view.W, p);
    }
}

/// <summary>
/// The evaluation transform: optionally a bilinear resize (align_corners=False, as the in-training validation of
/// spec §8.3 resizes to 448×448), then normalisation; the mask stays at the original size (scores are computed
/// at label resolution). Without a resize, images keep their size (batch them one at a time when sizes differ).
/// </summary>
public sealed class EvalTransform(int? resizeHeight = null, int? resizeWidth = null, float[]? mean = null, float[]? std = null) : ISampleTransform
{
    readonly float[] _mean = mean ?? Photometric.ImageNetMean, _std = std ?? Photometric.ImageNetStd;

    public int ViewCount => 1;

    public ViewData[] Apply(Sample sample, ulong seed, long epoch)
    {
        var img = ImageF.FromRgb(sample.Image);
        if (resizeHeight is int h) img = Resample.ResizeBilinear(img, h, resizeWidth ?? h);
        var norm = new float[img.Data.Length];
        Photometric.Normalize(img, norm, _mean, _std);
        return [new ViewData(norm, img.H, img.W, sample.Mask, sample.Mask is null ? 0 : sample.Image.Height, sample.Mask is null ? 0 : sample.Image.Width, null)];
    }
}
