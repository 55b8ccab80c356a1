namespace FsrNative.Model;

/// <summary>
/// What <see cref="SegmentationInference.Predict"/> computed (golden <c>infer.*</c>). Tensors belong to the caller's
/// dispose scope.
/// </summary>
public sealed record SegmentationPrediction
{
    /// <summary>Per scale, the decoder logits of [images; flipped images] (2B, K, gh_s, gw_s) (golden
    /// <c>infer.scale{i}.raw_seg_out</c>).</summary>
    public required IReadOnlyList<Tensor> raw_seg_out { get; init; }
    /// <summary>Per scale, logits upsampled to H×W and summed with the un-flipped flip branch (B, K, H, W).</summary>
    public required IReadOnlyList<Tensor> flip_sum { get; init; }
    /// <summary>Elementwise max over scales (B, K, H, W).</summary>
    public required Tensor seg_logits { get; init; }
    /// <summary>argmax over classes (B, H, W), Int32.</summary>
    public required Tensor pred { get; init; }
    /// <summary>The main CAM the reference inference script also computes (B, C, H, W): flip-sum, scale-sum, ReLU,
    /// per-map min-max.</summary>
    public required Tensor cam { get; init; }
}

/// <summary>
/// Segmentation prediction (fsr-spec §8.1; reference <c>tools/infer_seg_voc.py</c>): the network in evaluation mode;
/// for each scale s the images are resized bilinearly to (⌊s·H⌋, ⌊s·W⌋) — the position embedding follows the
/// non-square grid bicubically — and run together with their horizontal flips; decoder logits are upsampled
/// bilinearly to H×W and the flip branch un-flipped and ADDED; the final logits are the elementwise MAX over scales;
/// the prediction is their argmax (the dense CRF of §8.2 is separate). No gradient.
/// </summary>
public static class SegmentationInference
{
    /// <summary>The inference scales (1.0, 1.25, 1.5) (fsr-spec §9).</summary>
    public static IReadOnlyList<double> DefaultScales { get; } = [1.0, 1.25, 1.5];

    /// <summary>
    /// Predicts (B, 3, H, W) normalised images at full resolution. The network is put in evaluation mode for the call
    /// and given back in its previous mode.
    /// </summary>
    public static SegmentationPrediction Predict(WsssNetwork network, Tensor images, IReadOnlyList<double>? scales = null)
    {
        if (images.dim() != 4) throw new ArgumentException($"SegmentationInference: expected (B, C, H, W) images, got {Shape.Format(images.shape)}");
        scales ??= DefaultScales;
        if (scales.Count == 0) throw new ArgumentException("SegmentationInference: at least one scale is needed");
        int b = images.size(0), h = images.size(2), w = images.size(3);
        bool wasTraining = network.training;
        network.eval();
        try
        {
            using var noGrad = torch.no_grad();
            var raws = new List<Tensor>();
            var sums = new List<Tensor>();
            Tensor? logits = null, camSum = null;
            foreach (var s in scales)
            {
                if (!(s > 0)) throw new ArgumentException($"SegmentationInference: scales must be positive, got {s}");
                int sh = (int)(h * s), sw = (int)(w * s);   // Python's int(h * sc)
                var x = torch.nn.functional.interpolate(images, [sh, sw], mode: "bilinear", align_corners: false);
                var (seg, cam, _) = network.forward_segmentation(torch.cat([x, x.flip(3)], 0));
                raws.Add(seg);
                var segSum = FlipSum(seg, b, h, w);
                sums.Add(segSum);
                logits = logits is null ? segSum : logits.maximum(segSum);
                var camS = FlipSum(cam, b, h, w);
                camSum = camSum is null ? camS : camSum.add(camS);
            }
            return new SegmentationPrediction
            {
                raw_seg_out = raws,
                flip_sum = sums,
                seg_logits = logits!,
                pred = logits!.argmax(1),
                cam = MultiScaleCam.Normalise(camSum!.relu()),
            };
        }
        finally
        {
            network.train(wasTraining);
        }
    }

    /// <summary>up(x)[:B] + unflip(up(x)[B:]): (2B, K, h, w) → (B, K, H, W).</summary>
    static Tensor FlipSum(Tensor x, int b, int h, int w)
    {
        var up = torch.nn.functional.interpolate(x, [h, w], mode: "bilinear", align_corners: false);
        return up.narrow(0, 0, b).add(up.narrow(0, b, b).flip(3));
    }
}
