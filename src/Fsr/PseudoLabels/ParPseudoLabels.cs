using FsrNative.Crf;

namespace FsrNative.Fsr.PseudoLabels;

/// <summary>Settings of the PAR pseudo-label refinement (fsr-spec §3.6, §9; VOC defaults; COCO uses High = 0.65).</summary>
public sealed record ParLabelOptions
{
    /// <summary>Background level of the high run (its labels give the foreground classes).</summary>
    public float High { get; init; } = 0.7f;
    /// <summary>Background level of the low run.</summary>
    public float Low { get; init; } = 0.25f;
    /// <summary>PAR runs at (H / DownScale, W / DownScale) (integer division, as the reference's <c>h // down_scale</c>).</summary>
    public int DownScale { get; init; } = 2;
    /// <summary>PAR iterations.</summary>
    public int Iterations { get; init; } = 10;
    /// <summary>PAR neighbourhood dilations.</summary>
    public IReadOnlyList<int> Dilations { get; init; } = Par.DefaultDilations;
    /// <summary>Label of pixels where the two runs disagree about background.</summary>
    public int IgnoreIndex { get; init; } = 255;

    public static ParLabelOptions Voc { get; } = new();
    public static ParLabelOptions Coco { get; } = new() { High = 0.65f };
}

/// <summary>
/// Everything one refinement computed (for tests and diagnostics); the tensors are the caller's to dispose.
/// kmax = 1 + the largest number of present classes in the batch; image b uses the first ValidKeys[b].Length channels of
/// each level, the rest are padding (probability 0 throughout).
/// </summary>
public sealed class ParRefinement : IDisposable
{
    /// <summary>The pseudo labels (B, H, W), Int32: 0 = background, c + 1 = class c, IgnoreIndex = ignored.</summary>
    public required Tensor Labels { get; init; }
    /// <summary>(B, 2, H, W) Int32: the label map of the high (index 0) and the low (index 1) run.</summary>
    public required Tensor LevelLabels { get; init; }
    /// <summary>(B, 3, h, w): the downscaled image given to PAR.</summary>
    public required Tensor Images { get; init; }
    /// <summary>(B, 2, kmax, h, w): softmax over [background plane; present-class CAMs] per level (PAR's input).</summary>
    public required Tensor InProb { get; init; }
    /// <summary>(B, 2, kmax, h, w): PAR's output.</summary>
    public required Tensor OutProb { get; init; }
    /// <summary>Per image, channel → label id (0 = background, c + 1 = class c): the reference's <c>valid_key</c>.</summary>
    public required IReadOnlyList<int[]> ValidKeys { get; init; }

    public void Dispose()
    {
        Labels.Dispose(); LevelLabels.Dispose(); Images.Dispose(); InProb.Dispose(); OutProb.Dispose();
    }
}

/// <summary>
/// PAR-refined CAM pseudo labels (fsr-spec §3.6, the reference's <c>refine_cams_with_bkg_v2</c>), batched: instead of
/// one PAR call per image and background level, the whole batch goes through PAR once, both levels stacked as channels
/// (PAR's affinities depend on the image only and it treats channels independently), each image's present classes
/// gathered into kmax channels (padding channels hold −∞ before the softmax, so probability 0 — they stay 0 through
/// PAR and the upsampling and never win the argmax). No gradient; no per-pixel host work (only the (B, C) class vectors
/// are read on the host to build the channel index).
/// </summary>
public static class ParPseudoLabels
{
    /// <summary>
    /// Pseudo labels (B, H, W) (Int32) from the de-normalised view <paramref name="images01"/> (B, 3, H, W) in [0, 1]
    /// (<see cref="ImageDenormalization.ToUnitBytes"/>), the class-masked CAMs <paramref name="validCam"/> (B, C, H, W)
    /// (<see cref="CamLabels.ValidCam"/>) and the class vectors (B, C).
    /// </summary>
    public static Tensor Refine(Tensor images01, Tensor validCam, Tensor classLabels, ParLabelOptions? options = null)
    {
        var r = RefineDetailed(images01, validCam, classLabels, options);
        r.LevelLabels.Dispose(); r.Images.Dispose(); r.InProb.Dispose(); r.OutProb.Dispose();
        return r.Labels;
    }

    /// <summary><see cref="Refine"/>, keeping the intermediates.</summary>
    public static ParRefinement RefineDetailed(Tensor images01, Tensor validCam, Tensor classLabels, ParLabelOptions? options = null)
    {
        const string name = "ParPseudoLabels";
        var o = options ?? ParLabelOptions.Voc;
        Check(images01, validCam, classLabels, o, name);
        int batch = validCam.size(0), classes = validCam.size(1), height = validCam.size(2), width = validCam.size(3);
        int h = height / o.DownScale, w = width / o.DownScale;
        var device = validCam.device;

        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();

        // valid_key per image: the background, then the present classes in ascending order (torch.nonzero).
        var keys = ValidKeys(classLabels, batch, classes);
        int kmax = keys.Max(k => k.Length);

        // (1) bilinear ×1/DownScale (align_corners off) of the image, the CAMs and the two constant background planes;
        // resampling is per plane, so resampling a background plane alone equals resampling it inside the stack.
        int[] small = [h, w];
        var images = Resize(images01.detach(), small);
        var cams = Resize(validCam.detach(), small).reshape(batch * classes, h, w);
        var levels = torch.cat([torch.full([1, 1, height, width], o.High, device), torch.full([1, 1, height, width], o.Low, device)], 1);
        var background = Resize(levels, small).reshape(2, h, w);
        var padding = torch.full([1, h, w], float.NegativeInfinity, device);
        var planes = torch.cat([cams, background, padding], 0);   // rows: b·C + c, then bg high, bg low, padding

        // (2) per image and level: [background; present classes; padding] → softmax over the channels.
        var rows = new int[batch * 2 * kmax];
        for (int b = 0; b < batch; b++)
            for (int level = 0; level < 2; level++)
                for (int j = 0; j < kmax; j++)
                    rows[(b * 2 + level) * kmax + j] = j == 0 ? batch * classes + level
                        : j < keys[b].Length ? b * classes + keys[b][j] - 1
                        : batch * classes + 2;
        var gathered = planes.index_select(0, torch.tensor((ReadOnlySpan<int>)rows, [rows.Length], device)).reshape(batch, 2, kmax, h, w);
        var inProb = gathered.softmax(2);

        // (3) PAR on the small image, both levels at once; bilinear ×DownScale back to (H, W); argmax; channel → label id.
        var outProb = Par.Refine(images, inProb.reshape(batch, 2 * kmax, h, w), o.Iterations, o.Dilations);
        var upsampled = Resize(outProb, [height, width]).reshape(batch, 2, kmax, height, width);
        var channel = upsampled.argmax(2);                                                 // (B, 2, H, W)
        var keyTable = new float[batch * 2 * kmax];
        var offsets = new float[batch * 2];
        for (int b = 0; b < batch; b++)
            for (int level = 0; level < 2; level++)
            {
                offsets[b * 2 + level] = (b * 2 + level) * kmax;
                for (int j = 0; j < keys[b].Length; j++) keyTable[(b * 2 + level) * kmax + j] = keys[b][j];
            }
        var flat = channel.to(DType.Float32).add(torch.tensor((ReadOnlySpan<float>)offsets, [batch, 2, 1, 1], device)).to(DType.Int32).reshape(-1);
        var levelLabels = torch.tensor((ReadOnlySpan<float>)keyTable, [keyTable.Length], device).index_select(0, flat).reshape(batch, 2, height, width);

        // (4) combine: label_high; where label_high = 0 → ignore; where both runs say background → 0.
        var high = levelLabels.select(1, 0);
        var low = levelLabels.select(1, 1);
        var disputed = torch.where(high.eq(0f), torch.scalar_tensor(o.IgnoreIndex, device), high);
        var labels = torch.where(high.add(low).eq(0f), torch.scalar_tensor(0f, device), disputed);

        return new ParRefinement
        {
            Labels = labels.to(DType.Int32).MoveToOuterDisposeScope(),
            LevelLabels = levelLabels.to(DType.Int32).MoveToOuterDisposeScope(),
            Images = images.MoveToOuterDisposeScope(),
            InProb = inProb.MoveToOuterDisposeScope(),
            OutProb = outProb.reshape(batch, 2, kmax, h, w).MoveToOuterDisposeScope(),
            ValidKeys = keys,
        };
    }

    static Tensor Resize(Tensor x, int[] size)
        => torch.nn.functional.interpolate(x, size: size, mode: "bilinear", align_corners: false);

    static int[][] ValidKeys(Tensor classLabels, int batch, int classes)
    {
        float[] y;
        using (var f = CamLabels.AsFloat(classLabels)) y = f.ToArray();   // sync point: the (B, C) image labels choose each image's class keys
        var keys = new int[batch][];
        for (int b = 0; b < batch; b++)
        {
            var k = new List<int> { 0 };
            for (int c = 0; c < classes; c++)
                if (y[b * classes + c] != 0f) k.Add(c + 1);
            keys[b] = k.ToArray();
        }
        return keys;
    }

    static void Check(Tensor images01, Tensor validCam, Tensor classLabels, ParLabelOptions o, string name)
    {
        if (validCam.dim() != 4)
            throw new ArgumentException($"{name}: expected class-masked CAMs of shape (B, C, H, W), got ({string.Join(", ", validCam.shape)})");
        if (images01.dim() != 4 || images01.size(0) != validCam.size(0) || images01.size(2) != validCam.size(2) || images01.size(3) != validCam.size(3))
            throw new ArgumentException($"{name}: images ({string.Join(", ", images01.shape)}) must be (B, channels, H, W) with the CAMs' B, H, W ({string.Join(", ", validCam.shape)})");
        if (classLabels.dim() != 2 || classLabels.size(0) != validCam.size(0) || classLabels.size(1) != validCam.size(1))
            throw new ArgumentException($"{name}: class labels ({string.Join(", ", classLabels.shape)}) must be (B, C) = ({validCam.size(0)}, {validCam.size(1)})");
        if (o.DownScale < 1) throw new ArgumentException($"{name}: DownScale must be at least 1, got {o.DownScale}");
        if (validCam.size(2) / o.DownScale < 1 || validCam.size(3) / o.DownScale < 1)
            throw new ArgumentException($"{name}: CAMs of {validCam.size(2)}×{validCam.size(3)} are too small for DownScale {o.DownScale}");
        if (!(o.Low <= o.High)) throw new ArgumentException($"{name}: Low {o.Low} must not exceed High {o.High}");
    }
}
