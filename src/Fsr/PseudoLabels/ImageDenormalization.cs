namespace FsrNative.Fsr.PseudoLabels;

/// <summary>
/// Undoing the ImageNet normalisation of a view (B, 3, H, W), the two ways the reference does it:
/// <see cref="ToPixels"/> for the dense-energy regulariser (fsr-spec §6.4: 0..255 in floating point) and
/// <see cref="ToUnitBytes"/> for PAR (fsr-spec §3.6: 8-bit truncation, then /255).
/// Both compute, per channel c and in float32, t = x·s_c (rounded) then t + m_c (rounded) with s and m in 0..255 units —
/// two separate ops, never a fused multiply-add: the truncation to 8 bits reproduces the reference's float32 result
/// exactly only this way (golden README §8; in float64 about 20% of the pixels land one grey level away).
/// Never recorded on the tape (the image is a constant for every loss).
/// </summary>
public static class ImageDenormalization
{
    /// <summary>ImageNet mean × 255 (RGB), as the reference's <c>denormalize_img</c> and <c>get_energy_loss</c>.</summary>
    public static IReadOnlyList<float> MeanTimes255 { get; } = [123.675f, 116.28f, 103.53f];

    /// <summary>ImageNet standard deviation × 255 (RGB).</summary>
    public static IReadOnlyList<float> StdTimes255 { get; } = [58.395f, 57.12f, 57.375f];

    /// <summary>x·s_c + m_c in float32 (two roundings): the view in 0..255 without rounding to integers (fsr-spec §6.4).
    /// <paramref name="mean255"/>/<paramref name="std255"/> default to the ImageNet values.</summary>
    public static Tensor ToPixels(Tensor normalized, IReadOnlyList<float>? mean255 = null, IReadOnlyList<float>? std255 = null)
    {
        const string name = "ToPixels";
        Check(normalized, name);
        using var noGrad = torch.no_grad();
        using var std = ChannelTensor(std255 ?? StdTimes255, normalized, "std255", name);
        using var mean = ChannelTensor(mean255 ?? MeanTimes255, normalized, "mean255", name);
        using var scaled = normalized.detach().mul(std);
        return scaled.add(mean);
    }

    /// <summary>
    /// The PAR input of fsr-spec §3.6 / golden README §8: <see cref="ToPixels"/> truncated toward zero to an integer grey
    /// level (the reference's <c>.type(torch.uint8)</c>), then divided by 255 (an IEEE division, as torch's true_divide).
    /// Grey levels outside 0..255 — only possible when the view did not come from a [0, 1] image — are clamped (the
    /// reference's uint8 conversion is undefined there).
    /// </summary>
    public static Tensor ToUnitBytes(Tensor normalized, IReadOnlyList<float>? mean255 = null, IReadOnlyList<float>? std255 = null)
    {
        using var noGrad = torch.no_grad();
        using var pixels = ToPixels(normalized, mean255, std255);
        using var levels = pixels.to(DType.Int32);            // truncation toward zero
        using var asFloat = levels.to(DType.Float32);
        using var clamped = asFloat.clamp(0f, 255f);
        return clamped.div(255f);
    }

    static void Check(Tensor images, string op)
    {
        if (images.DType != DType.Float32)
            throw new ArgumentException($"{op}: images must be Float32, got {images.DType}");
        if (images.dim() != 4 || images.size(1) != 3)
            throw new ArgumentException($"{op}: expected normalised images of shape (B, 3, H, W), got ({string.Join(", ", images.shape)})");
    }

    static Tensor ChannelTensor(IReadOnlyList<float> values, Tensor like, string what, string op)
    {
        if (values.Count != 3) throw new ArgumentException($"{op}: {what} must have 3 values (RGB), got {values.Count}");
        return torch.tensor((ReadOnlySpan<float>)values.ToArray(), [1, 3, 1, 1], like.device);
    }
}
