using F = FsrNative.torch.nn.functional;

namespace FsrNative.Eval;

/// <summary>Multi-scale and flip settings of segmentation inference.</summary>
public sealed record SegInferenceOptions
{
    /// <summary>Input scales s: each image is resized bilinearly to (⌊sH⌋, ⌊sW⌋); 1.0 leaves it as it is.</summary>
    public double[] Scales { get; init; } = [1.0, 1.25, 1.5];
    /// <summary>Also run the horizontal flip and add its un-flipped logits.</summary>
    public bool Flip { get; init; } = true;

    /// <summary>Spec §8.1 (the reported numbers): scales 1, 1.25, 1.5, each with its flip.</summary>
    public static SegInferenceOptions Reported { get; } = new();
    /// <summary>Spec §8.3 (in-training validation): one scale, no flip.</summary>
    public static SegInferenceOptions Validation { get; } = new() { Scales = [1.0], Flip = false };

    internal void Validate()
    {
        if (Scales.Length == 0) throw new ArgumentException("inference: at least one scale");
        foreach (double s in Scales)
            if (!(s > 0) || double.IsInfinity(s)) throw new ArgumentException($"inference: scale {s} must be positive and finite");
    }
}

/// <summary>Multi-scale CAM settings (spec §3.5).</summary>
public sealed record CamInferenceOptions
{
    public double[] Scales { get; init; } = [1.0, 0.5, 1.5];
    /// <summary>Also run the horizontal flip and take the elementwise maximum with its un-flipped CAMs.</summary>
    public bool Flip { get; init; } = true;
    /// <summary>Added to the per-map maximum before dividing (spec: 1e-5).</summary>
    public float Epsilon { get; init; } = 1e-5f;
    /// <summary>Min-max normalise each map (the spec always does; off only to inspect the raw scale sum).</summary>
    public bool Normalize { get; init; } = true;

    /// <summary>Spec §3.5 / §8.3: scales 1, 0.5, 1.5 with flips.</summary>
    public static CamInferenceOptions Spec { get; } = new();

    internal void Validate()
    {
        if (Scales.Length == 0) throw new ArgumentException("CAM inference: at least one scale");
        foreach (double s in Scales)
            if (!(s > 0) || double.IsInfinity(s)) throw new ArgumentException($"CAM inference: scale {s} must be positive and finite");
    }
}

/// <summary>
/// Segmentation prediction (spec §8.1): for each scale s the image is resized bilinearly to (⌊sH⌋, ⌊sW⌋) and run
/// together with its horizontal flip (one batch of 2N); both logit maps are upsampled bilinearly (align_corners
/// off) to the output size and summed after un-flipping the second; the final logits are the elementwise
/// <b>maximum</b> over scales. With <see cref="SegInferenceOptions.Validation"/> it is spec §8.3's single pass.
/// </summary>
public static class SegmentationInference
{
    /// <summary>The fused logits (N, K, outH, outW) of normalised images (N, 3, H, W). Runs under no_grad; every
    /// temporary is freed; the result belongs to the caller's dispose scope.</summary>
    public static Tensor Logits(ISegmentationModel model, Tensor images, int outH, int outW, SegInferenceOptions? options = null)
    {
        var o = options ?? SegInferenceOptions.Reported;
        o.Validate();
        CheckImages(images, "segmentation inference");
        if (outH <= 0 || outW <= 0) throw new ArgumentException($"segmentation inference: output size {outH}x{outW} must be positive");
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        int n = images.size(0), h = images.size(2), w = images.size(3);
        Tensor? fused = null;
        foreach (double s in o.Scales)
        {
            var x = Resize(images, ScaledSize(h, s), ScaledSize(w, s));
            var input = o.Flip ? torch.cat([x, x.flip(3)], 0) : x;
            var logits = model.Logits(input);
            CheckOutput(logits, input.size(0), "segmentation model", "logits (N, K, h, w)");
            var up = Resize(logits, outH, outW);
            var sum = o.Flip ? up.narrow(0, 0, n).add(up.narrow(0, n, n).flip(3)) : up;
            fused = fused is null ? sum : fused.maximum(sum);
        }
        return Owned(fused!, images);
    }

    /// <summary>argmax over the labels: Int32 (N, H, W).</summary>
    public static Tensor Predict(ISegmentationModel model, Tensor images, int outH, int outW, SegInferenceOptions? options = null)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        return Logits(model, images, outH, outW, options).argmax(1).MoveToOuterDisposeScope();
    }

    internal static int ScaledSize(int size, double scale) => scale == 1.0 ? size : Math.Max(1, (int)Math.Floor(size * scale));

    /// <summary>Bilinear resize (align_corners off); the input itself when the size already matches.</summary>
    internal static Tensor Resize(Tensor x, int h, int w) =>
        x.size(2) == h && x.size(3) == w ? x : F.interpolate(x, size: [h, w], mode: "bilinear", align_corners: false);

    internal static void CheckImages(Tensor images, string what)
    {
        if (images.dim() != 4 || images.DType != DType.Float32)
            throw new ArgumentException($"{what}: expected Float32 images (N, C, H, W), got {images.DType} {Shape.Format(images.shape)}");
    }

    internal static void CheckOutput(Tensor t, int n, string who, string expected)
    {
        if (t.dim() != 4 || t.size(0) != n || t.DType != DType.Float32)
            throw new InvalidOperationException($"{who}: returned {t.DType} {Shape.Format(t.shape)} for a batch of {n}; expected Float32 {expected}");
    }

    /// <summary>Moves the result out of the current scope, copying it when it is the caller's own input (an
    /// identity model at scale 1 without flip).</summary>
    internal static Tensor Owned(Tensor result, Tensor input)
    {
        if (ReferenceEquals(result, input)) result = result.clone();
        return result.MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Class activation maps (spec §3.5) and their labels. The multi-scale CAM: for each scale s (1, 0.5, 1.5) the
/// image is resized bilinearly to ⌊sH⌋ × ⌊sW⌋ and run with its flip; both CAM sets are upsampled bilinearly to
/// H × W, the flipped one un-flipped, the pair reduced by elementwise <b>maximum</b>, then ReLU; the scales are
/// <b>summed</b>; finally each map (per image, per class) is shifted by its minimum and divided by (its new maximum
/// + 1e-5), giving values in [0, 1).
/// </summary>
public static class CamInference
{
    /// <summary>Normalised multi-scale CAMs (N, C, H, W) of every CAM set of <paramref name="model"/>, at the input
    /// size. Runs under no_grad; the results belong to the caller's dispose scope.</summary>
    public static Tensor[] MultiScale(ICamModel model, Tensor images, CamInferenceOptions? options = null)
    {
        var o = options ?? CamInferenceOptions.Spec;
        o.Validate();
        SegmentationInference.CheckImages(images, "CAM inference");
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        int n = images.size(0), h = images.size(2), w = images.size(3);
        Tensor?[]? sums = null;
        foreach (double s in o.Scales)
        {
            var x = SegmentationInference.Resize(images, SegmentationInference.ScaledSize(h, s), SegmentationInference.ScaledSize(w, s));
            var input = o.Flip ? torch.cat([x, x.flip(3)], 0) : x;
            var sets = model.CamSets(input);
            if (sums is null) sums = new Tensor?[sets.Length];
            else if (sets.Length != sums.Length) throw new InvalidOperationException($"CAM model: returned {sets.Length} CAM sets, before {sums.Length}");
            for (int i = 0; i < sets.Length; i++)
            {
                SegmentationInference.CheckOutput(sets[i], input.size(0), "CAM model", "CAMs (N, C, h, w)");
                var up = SegmentationInference.Resize(sets[i], h, w);
                var pair = o.Flip ? up.narrow(0, 0, n).maximum(up.narrow(0, n, n).flip(3)) : up;
                var r = pair.relu();
                sums[i] = sums[i] is null ? r : sums[i]!.add(r);
            }
        }
        var result = new Tensor[sums!.Length];
        for (int i = 0; i < result.Length; i++) result[i] = o.Normalize ? Normalize(sums[i]!, o.Epsilon) : SegmentationInference.Owned(sums[i]!, images);
        foreach (var t in result) if (o.Normalize) t.MoveToOuterDisposeScope();
        return result;
    }

    /// <summary>Per image and per class: (x − min) / (max(x − min) + eps) over the spatial axes of (N, C, H, W).</summary>
    public static Tensor Normalize(Tensor cams, float epsilon = 1e-5f)
    {
        if (cams.dim() != 4) throw new ArgumentException($"CAM normalisation: expected (N, C, H, W), got {Shape.Format(cams.shape)}");
        using var scope = torch.NewDisposeScope();
        var shifted = cams.sub(cams.amin([2, 3], keepdim: true));
        return shifted.div(shifted.amax([2, 3], keepdim: true).add(epsilon)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The class-masked maximum of spec §3.5: v = max_c(y_c · cam_c) and its class index (0-based, first of ties),
    /// per pixel, copied to the host. <paramref name="cams"/> (N, C, H, W), <paramref name="imageLabels"/> (N, C) 0/1.
    /// </summary>
    public static CamMaxima Maxima(Tensor cams, Tensor imageLabels)
    {
        if (cams.dim() != 4 || imageLabels.dim() != 2 || imageLabels.size(0) != cams.size(0) || imageLabels.size(1) != cams.size(1))
            throw new ArgumentException($"CAM labels: CAMs {Shape.Format(cams.shape)} and image labels {Shape.Format(imageLabels.shape)} do not match (N, C, H, W) / (N, C)");
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        int n = cams.size(0), c = cams.size(1), h = cams.size(2), w = cams.size(3);
        var valid = cams.mul(imageLabels.reshape(n, c, 1, 1));
        var (values, indices) = valid.max(1);
        return new CamMaxima(n, h, w, values.ToArray(), indices.ToIntArray());
    }

    /// <summary>Single-threshold labels (spec §3.5, "bkg" mode) as an Int32 tensor (N, H, W) on the CAMs' device:
    /// class index + 1 where v &gt; <paramref name="background"/>, else 0.</summary>
    public static Tensor ToLabels(Tensor cams, Tensor imageLabels, float background)
    {
        var m = Maxima(cams, imageLabels);
        var labels = new int[m.Values.Length];
        for (int i = 0; i < labels.Length; i++) labels[i] = m.Values[i] > background ? m.Indices[i] + 1 : 0;
        return torch.tensor(labels, [m.N, m.H, m.W], cams.device);
    }

    /// <summary>Two-threshold labels (spec §3.5): class where v &gt; hi, 255 (ignore) where lo &lt; v ≤ hi, 0 where v ≤ lo.</summary>
    public static Tensor ToLabels(Tensor cams, Tensor imageLabels, float high, float low)
    {
        if (!(low <= high)) throw new ArgumentException($"CAM labels: low threshold {low} above high {high}");
        var m = Maxima(cams, imageLabels);
        var labels = new int[m.Values.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            float v = m.Values[i];
            labels[i] = v > high ? m.Indices[i] + 1 : v > low ? 255 : 0;
        }
        return torch.tensor(labels, [m.N, m.H, m.W], cams.device);
    }
}

/// <summary>Host copies of v = max_c(y_c · cam_c) and its 0-based class index for N images of H × W.</summary>
public sealed class CamMaxima(int n, int h, int w, float[] values, int[] indices)
{
    public int N { get; } = n;
    public int H { get; } = h;
    public int W { get; } = w;
    public float[] Values { get; } = values;
    public int[] Indices { get; } = indices;

    /// <summary>Single-threshold labels of image <paramref name="image"/>: index + 1 where v &gt; threshold, else 0.</summary>
    public byte[] Labels(int image, float background)
    {
        int plane = H * W, o = image * plane;
        var r = new byte[plane];
        for (int i = 0; i < plane; i++) r[i] = Values[o + i] > background ? (byte)(Indices[o + i] + 1) : (byte)0;
        return r;
    }

    /// <summary>The heat map v of image <paramref name="image"/> (H·W values).</summary>
    public float[] Heat(int image) => Values.AsSpan(image * H * W, H * W).ToArray();
}
