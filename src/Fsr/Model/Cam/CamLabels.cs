namespace FsrNative.Model;

/// <summary>
/// CAM → label maps (fsr-spec §3.5; reference <c>cam_to_label</c>): with the multi-hot class vector y (B, C),
/// v = max_c(y_c·cam_c) and idx = argmax_c + 1 per pixel. Labels are Int32 maps (B, H, W): 0 background, 1…C
/// classes, <c>ignoreIndex</c> ignored.
/// </summary>
public static class CamLabels
{
    /// <summary>y_c · cam_c: (B, C, H, W) with the absent classes zeroed (the PAR input, golden <c>cam.valid_cam1</c>).
    /// <paramref name="clsLabels"/> (B, C), Float32 or Int32.</summary>
    public static Tensor ValidCam(Tensor cam, Tensor clsLabels)
    {
        if (cam.dim() != 4) throw new ArgumentException($"CamLabels: expected (B, C, H, W) CAMs, got {Shape.Format(cam.shape)}");
        if (clsLabels.dim() != 2 || clsLabels.size(0) != cam.size(0) || clsLabels.size(1) != cam.size(1))
            throw new ArgumentException($"CamLabels: class labels {Shape.Format(clsLabels.shape)} must be (B, C) = ({cam.size(0)}, {cam.size(1)})");
        var y = clsLabels.DType == DType.Float32 ? clsLabels : clsLabels.to(DType.Float32);
        return cam.mul(y.reshape(y.size(0), y.size(1), 1, 1));
    }

    /// <summary>Two-threshold mode (PTC labels, fsr-spec §6.3): idx where v &gt; high, ignore where low &lt; v ≤ high,
    /// 0 where v ≤ low.</summary>
    public static Tensor ToLabel(Tensor cam, Tensor clsLabels, float high, float low, int ignoreIndex = 255)
    {
        if (!(low <= high)) throw new ArgumentException($"CamLabels.ToLabel: low threshold {low} must not exceed high threshold {high}");
        using var scope = torch.NewDisposeScope();
        var (v, idx) = MaxAndIndex(cam, clsLabels);
        using var ignore = torch.scalar_tensor(ignoreIndex, cam.device);
        using var zero = torch.scalar_tensor(0f, cam.device);
        var label = torch.where(v.gt(high), idx, torch.where(v.gt(low), ignore, zero));
        return label.to(DType.Int32).MoveToOuterDisposeScope();
    }

    /// <summary>Single-threshold mode (CAM evaluation, fsr-spec §8.3): idx where v &gt; bkg, else 0.</summary>
    public static Tensor ToLabel(Tensor cam, Tensor clsLabels, float bkg)
    {
        using var scope = torch.NewDisposeScope();
        var (v, idx) = MaxAndIndex(cam, clsLabels);
        using var zero = torch.scalar_tensor(0f, cam.device);
        return torch.where(v.gt(bkg), idx, zero).to(DType.Int32).MoveToOuterDisposeScope();
    }

    /// <summary>v = max_c(y_c·cam_c) and argmax_c + 1 (first maximum), both Float32 (B, H, W).</summary>
    static (Tensor v, Tensor idx) MaxAndIndex(Tensor cam, Tensor clsLabels)
    {
        var valid = ValidCam(cam, clsLabels);
        return (valid.amax([1]), valid.argmax(1).to(DType.Float32).add(1f));
    }
}
