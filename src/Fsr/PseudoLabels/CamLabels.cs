namespace FsrNative.Fsr.PseudoLabels;

/// <summary>
/// CAM → label (fsr-spec §3.5, the reference's <c>cam_to_label</c>): with class vectors y (B, C) and CAMs (B, C, H, W),
/// v = max_c (y_c·CAM_c) and idx = argmax_c + 1 (label ids: 0 = background, c + 1 = class c). No gradient.
/// Class vectors may be Float32 (multi-hot) or Int32; a class is present where its entry is non-zero.
/// </summary>
public static class CamLabels
{
    /// <summary>y ⊙ CAM: (B, C, H, W) with the absent classes' maps zeroed (the reference's <c>valid_cam</c>).</summary>
    public static Tensor ValidCam(Tensor cam, Tensor classLabels)
    {
        const string name = "ValidCam";
        CheckShapes(cam, classLabels, name);
        using var noGrad = torch.no_grad();
        using var y = AsFloat(classLabels);
        using var y4 = y.reshape(y.size(0), y.size(1), 1, 1);
        using var c = cam.detach();
        return c.mul(y4);
    }

    /// <summary>
    /// Two-threshold mode (PAR's and PTC's labels): idx where v &gt; <paramref name="high"/>, <paramref name="ignoreIndex"/>
    /// where <paramref name="low"/> &lt; v ≤ high, 0 where v ≤ low. Returns Int32 (B, H, W).
    /// </summary>
    public static Tensor TwoThreshold(Tensor cam, Tensor classLabels, float high, float low, int ignoreIndex = 255)
    {
        if (!(low <= high)) throw new ArgumentException($"TwoThreshold: low threshold {low} must not exceed the high threshold {high}");
        using var scope = torch.NewDisposeScope();
        var (value, label) = MaxAndLabel(cam, classLabels, "TwoThreshold");
        var ignored = torch.where(value.le(high), torch.scalar_tensor(ignoreIndex, cam.device), label);
        var result = torch.where(value.le(low), torch.scalar_tensor(0f, cam.device), ignored);
        return result.to(DType.Int32).MoveToOuterDisposeScope();
    }

    /// <summary>Single-threshold mode (evaluation, fsr-spec §8.3): idx where v &gt; <paramref name="background"/>, else 0.
    /// Returns Int32 (B, H, W).</summary>
    public static Tensor SingleThreshold(Tensor cam, Tensor classLabels, float background)
    {
        using var scope = torch.NewDisposeScope();
        var (value, label) = MaxAndLabel(cam, classLabels, "SingleThreshold");
        var result = torch.where(value.le(background), torch.scalar_tensor(0f, cam.device), label);
        return result.to(DType.Int32).MoveToOuterDisposeScope();
    }

    /// <summary>v and idx (as Float32 label ids) inside the caller's dispose scope.</summary>
    static (Tensor Value, Tensor Label) MaxAndLabel(Tensor cam, Tensor classLabels, string name)
    {
        CheckShapes(cam, classLabels, name);
        using var noGrad = torch.no_grad();
        var valid = ValidCam(cam, classLabels);
        var (value, index) = valid.max(1);   // first maximum on ties, as torch.max(dim)
        var label = index.to(DType.Float32).add(1f);
        return (value, label);
    }

    internal static Tensor AsFloat(Tensor classLabels)
        => classLabels.DType == DType.Float32 ? classLabels.detach() : classLabels.to(DType.Float32);

    static void CheckShapes(Tensor cam, Tensor classLabels, string name)
    {
        if (cam.dim() != 4)
            throw new ArgumentException($"{name}: expected CAMs of shape (B, C, H, W), got ({string.Join(", ", cam.shape)})");
        if (classLabels.dim() != 2 || classLabels.size(0) != cam.size(0) || classLabels.size(1) != cam.size(1))
            throw new ArgumentException($"{name}: class labels ({string.Join(", ", classLabels.shape)}) must be (B, C) = ({cam.size(0)}, {cam.size(1)}) to match the CAMs");
    }
}
