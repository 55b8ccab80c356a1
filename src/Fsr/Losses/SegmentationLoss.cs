namespace FsrNative.Fsr.Losses;

/// <summary>
/// Background/foreground balanced segmentation loss (fsr-spec §6.2, §4 step 5; the reference's <c>get_seg_loss</c>):
/// L_seg = 0.5·CE(pred, PL on pixels with PL = 0) + 0.5·CE(pred, PL on pixels with 1 ≤ PL ≤ C), each CE the mean over
/// its own valid pixels of the whole batch, ignore label excluded. An empty set gives 0 with zero gradients, where the
/// reference gives NaN (fsr-spec §12).
/// </summary>
public static class SegmentationLoss
{
    /// <summary>Decoder logits (B, K, h, w) upsampled bilinearly (align_corners off) to the label size (the reference's
    /// <c>seg_pred</c>). Differentiable.</summary>
    public static Tensor UpsampleLogits(Tensor segLogits, int height, int width)
    {
        if (segLogits.dim() != 4) throw new ArgumentException($"SegmentationLoss: expected decoder logits (B, K, h, w), got ({string.Join(", ", segLogits.shape)})");
        return torch.nn.functional.interpolate(segLogits, size: [height, width], mode: "bilinear", align_corners: false);
    }

    /// <summary>The balanced loss of logits (B, K, H, W) at the labels' resolution against pseudo labels (B, H, W)
    /// (Int32; values 0..K−1 or <paramref name="ignoreIndex"/>). A 0-D tensor.</summary>
    public static Tensor Balanced(Tensor segPred, Tensor pseudoLabels, int ignoreIndex = 255)
    {
        if (pseudoLabels.DType != DType.Int32)
            throw new ArgumentException($"SegmentationLoss: pseudo labels must be Int32, got {pseudoLabels.DType}");
        if (segPred.dim() != 4 || pseudoLabels.dim() != 3 || segPred.size(0) != pseudoLabels.size(0)
            || segPred.size(2) != pseudoLabels.size(1) || segPred.size(3) != pseudoLabels.size(2))
            throw new ArgumentException($"SegmentationLoss: logits ({string.Join(", ", segPred.shape)}) and pseudo labels ({string.Join(", ", pseudoLabels.shape)}) must be (B, K, H, W) and (B, H, W)");
        // Intermediates of the graph (masks included: the backward reads them) are left to the caller's dispose scope.
        Tensor background, foreground;
        using (torch.no_grad())
        {
            using var labels = pseudoLabels.to(DType.Float32);
            background = labels.eq(0f);
            foreground = labels.ne(0f);   // ignored pixels are dropped by ignore_index
        }
        var bg = torch.nn.functional.cross_entropy(segPred, pseudoLabels, ignore_index: ignoreIndex, mask: background);
        var fg = torch.nn.functional.cross_entropy(segPred, pseudoLabels, ignore_index: ignoreIndex, mask: foreground);
        return bg.add(fg).mul(0.5f);
    }
}
