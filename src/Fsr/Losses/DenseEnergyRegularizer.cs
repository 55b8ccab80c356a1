using FsrNative.Crf;
using FsrNative.Fsr.PseudoLabels;

namespace FsrNative.Fsr.Losses;

/// <summary>Settings of the dense-energy regulariser (fsr-spec §6.4, §9; the reference's <c>DenseEnergyLoss(weight=1e-7,
/// sigma_rgb=15, sigma_xy=100, scale_factor=0.5)</c>).</summary>
public sealed record DenseEnergyOptions
{
    public float SigmaRgb { get; init; } = 15f;
    /// <summary>σ_xy at full resolution; the filter runs with σ_xy·Scale.</summary>
    public float SigmaXy { get; init; } = 100f;
    public float Scale { get; init; } = 0.5f;
    /// <summary>The loss's internal weight (the training loop multiplies the result by w_reg on top).</summary>
    public float Weight { get; init; } = 1e-7f;
    public int IgnoreIndex { get; init; } = 255;

    public static DenseEnergyOptions Default { get; } = new();
}

/// <summary>
/// Dense-energy (CRF) regulariser (fsr-spec §6.4, §4 step 5; the reference's <c>get_energy_loss</c>):
/// P = softmax(seg_pred) over classes; the view de-normalised to 0..255 in floating point (no 8-bit rounding);
/// image nearest, P bilinear, PL nearest ×Scale; L_reg = −Weight·Σ P·(Bilateral(P) ⊙ G)/B with the gate
/// G = max(0, 1 − max_k P), G = 1 on ignored pixels; gradient −2·Weight·(R ⊙ G)/B with respect to P (G constant), through
/// the downscale and the softmax. The lattice, gate and loss are the engine's <see cref="DenseEnergy.Loss"/>.
/// The reference sums in NumPy (a float32 dot promoted to a float64 scalar); here the sum is float32 (golden: |Δ| ≈ 1e-9
/// on a value of ≈ 1e-2, README §7 allows 1e-7).
/// </summary>
public static class DenseEnergyRegularizer
{
    /// <summary>
    /// The loss from the normalised view <paramref name="normalizedImages"/> (B, 3, H, W), the upsampled decoder logits
    /// <paramref name="segPred"/> (B, K, H, W) and the pseudo labels (B, H, W) (Int32 or Float32). A 0-D tensor,
    /// differentiable in <paramref name="segPred"/>.
    /// </summary>
    public static Tensor Loss(Tensor normalizedImages, Tensor segPred, Tensor pseudoLabels, DenseEnergyOptions? options = null)
    {
        if (segPred.dim() != 4 || normalizedImages.dim() != 4 || normalizedImages.size(0) != segPred.size(0)
            || normalizedImages.size(2) != segPred.size(2) || normalizedImages.size(3) != segPred.size(3))
            throw new ArgumentException($"DenseEnergyRegularizer: images ({string.Join(", ", normalizedImages.shape)}) and logits ({string.Join(", ", segPred.shape)}) must be (B, 3, H, W) and (B, K, H, W)");
        using var pixels = ImageDenormalization.ToPixels(normalizedImages);
        var probs = segPred.softmax(1);
        return LossFromPixels(pixels, probs, pseudoLabels, options);
    }

    /// <summary>The loss from the image in 0..255 (B, 3, H, W) and the probabilities (B, K, H, W), differentiable in the
    /// probabilities: image and labels nearest ×Scale, probabilities bilinear ×Scale (the reference's interpolate calls,
    /// recompute_scale_factor on), then the engine's <see cref="DenseEnergy.Loss"/> at σ_xy·Scale.</summary>
    public static Tensor LossFromPixels(Tensor pixels, Tensor probs, Tensor pseudoLabels, DenseEnergyOptions? options = null)
    {
        var o = options ?? DenseEnergyOptions.Default;
        if (!(o.Scale > 0) || o.Scale > 1) throw new ArgumentException($"DenseEnergyRegularizer: Scale must be in (0, 1], got {o.Scale}");
        if (pseudoLabels.dim() != 3)
            throw new ArgumentException($"DenseEnergyRegularizer: expected pseudo labels (B, H, W), got ({string.Join(", ", pseudoLabels.shape)})");
        double[] factor = [o.Scale];
        Tensor smallImages, smallLabels;
        using (torch.no_grad())
        {
            using var image = pixels.detach();
            smallImages = torch.nn.functional.interpolate(image, scale_factor: factor, mode: "nearest", recompute_scale_factor: true);
            using var labels = pseudoLabels.DType == DType.Float32 ? pseudoLabels.detach() : pseudoLabels.to(DType.Float32);
            using var labels4 = labels.unsqueeze(1);
            using var small4 = torch.nn.functional.interpolate(labels4, scale_factor: factor, mode: "nearest", recompute_scale_factor: true);
            smallLabels = small4.squeeze(1);
        }
        // Downscaled here rather than through DenseEnergy.LossAtScale, which disposes its downscaled probabilities and so
        // cuts the graph (no gradient reaches the full-resolution probabilities). This tensor belongs to the graph: it is
        // left to the caller's dispose scope.
        var smallProbs = torch.nn.functional.interpolate(probs, scale_factor: factor, mode: "bilinear", align_corners: false, recompute_scale_factor: true);
        using (smallImages)
        using (smallLabels)
            return DenseEnergy.Loss(smallImages, smallProbs, smallLabels, o.SigmaRgb, o.SigmaXy * o.Scale, o.Weight, o.IgnoreIndex);
    }
}
