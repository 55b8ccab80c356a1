namespace FsrNative.Model;

/// <summary>
/// The training-time multi-scale CAM (fsr-spec §3.5; reference <c>utils/camutils.multi_scale_cam</c>): for scale 1
/// and then every other scale s, the images resized bilinearly to (⌊s·H⌋, ⌊s·W⌋) and their horizontal flips go through
/// the network as one batch; both CAM sets are upsampled bilinearly (align_corners off) to H×W, the flipped half is
/// un-flipped and the pair's elementwise MAX taken, then ReLU; the scales are SUMMED; finally each (image, class) map
/// is shifted by its minimum and divided by (its maximum + 1e-5). No gradient; the network is used in its current
/// mode (training mode during training, so stochastic depth is active, as in the reference).
/// </summary>
public static class MultiScaleCam
{
    /// <summary>The training scales (1.0, 0.5, 1.5) (fsr-spec §9).</summary>
    public static IReadOnlyList<double> TrainingScales { get; } = [1.0, 0.5, 1.5];

    /// <summary>
    /// Main and aux CAMs, each (B, C, H, W) in [0, 1), of (B, 3, H, W) normalised images. Images are independent, so
    /// any batch may be passed at once — e.g. [view 1; view 2] to serve the mask (§4 step 1) and the pseudo labels
    /// (§4 step 4) with one pass per scale, the weights being the same for both. As in the reference, scale 1 is always
    /// computed first and entries equal to 1 in <paramref name="scales"/> are not repeated.
    /// </summary>
    public static (Tensor cam, Tensor auxCam) Compute(WsssNetwork network, Tensor images, IReadOnlyList<double>? scales = null)
    {
        if (images.dim() != 4) throw new ArgumentException($"MultiScaleCam: expected (B, C, H, W) images, got {Shape.Format(images.shape)}");
        scales ??= TrainingScales;
        int b = images.size(0), h = images.size(2), w = images.size(3), c = network.config.NumForegroundClasses;
        using var noGrad = torch.no_grad();
        Tensor sum;
        using (var scope = torch.NewDisposeScope())
        {
            using (var inner = torch.NewDisposeScope()) sum = FlipMax(network, images, b, h, w).MoveToOuterDisposeScope();
            foreach (var s in scales)
            {
                if (s == 1.0) continue;
                if (!(s > 0)) throw new ArgumentException($"MultiScaleCam: scales must be positive, got {s}");
                int sh = (int)(s * h), sw = (int)(s * w);   // Python's int(s * h)
                // One scale's activations at a time: only its (B, 2C, H, W) maps leave the inner scope.
                Tensor scaled;
                using (var inner = torch.NewDisposeScope())
                {
                    var resized = torch.nn.functional.interpolate(images, [sh, sw], mode: "bilinear", align_corners: false);
                    scaled = FlipMax(network, resized, b, h, w).MoveToOuterDisposeScope();
                }
                sum = sum.add(scaled);
            }
            sum = Normalise(sum);
            sum.MoveToOuterDisposeScope();
        }
        // Main and aux CAMs travel together as 2C channels; split them into contiguous halves.
        var cam = sum.narrow(1, 0, c).contiguous();
        var aux = sum.narrow(1, c, c).contiguous();
        sum.Dispose();
        return (cam, aux);
    }

    /// <summary>ReLU(max(up(CAM(x)), unflip(up(CAM(flip x))))) for main and aux CAMs, concatenated: (B, 2C, H, W).</summary>
    static Tensor FlipMax(WsssNetwork network, Tensor x, int b, int h, int w)
    {
        var both = torch.cat([x, x.flip(3)], 0);
        var (top, aux) = network.forward_cams(both);                              // (2B, C, gh, gw) each
        var cams = torch.cat([top, aux], 1);                                      // one resize for both
        var up = torch.nn.functional.interpolate(cams, [h, w], mode: "bilinear", align_corners: false);
        return up.narrow(0, 0, b).maximum(up.narrow(0, b, b).flip(3)).relu();
    }

    /// <summary>Per (image, class) map: (x − min) / (max(x − min) + 1e-5) — the reference's adaptive-max-pool form.</summary>
    public static Tensor Normalise(Tensor cams)
    {
        var shifted = cams.sub(cams.amin([2, 3], keepdim: true));
        return shifted.div(shifted.amax([2, 3], keepdim: true).add(1e-5f));
    }
}
