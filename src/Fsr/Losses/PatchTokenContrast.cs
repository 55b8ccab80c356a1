using FsrNative.Fsr.PseudoLabels;

namespace FsrNative.Fsr.Losses;

/// <summary>
/// Patch-token contrast (fsr-spec §6.3, §4 step 6; from ToCo: the reference's <c>cam_to_label</c> on the resized aux CAM,
/// <c>label_to_aff_mask</c> and <c>get_masked_ptc_loss</c>). Token labels come from the auxiliary CAM of view 1 resized to
/// the token grid (two-threshold mode); pairs within one image are positive when the labels agree (background pairs
/// included), negative otherwise, excluded when either token is ignored and on the diagonal;
/// L_aff = 0.5·(1 − Σ_pos |cos| / (N_pos + 1)) + 0.5·Σ_neg |cos| / (N_neg + 1), sums over the whole batch.
/// </summary>
public static class PatchTokenContrast
{
    /// <summary>The aux CAM (B, C, H, W) resized bilinearly (align_corners off) to the token grid (the reference's
    /// <c>resized_aux_cam</c>). No gradient.</summary>
    public static Tensor ResizeCam(Tensor auxCam, int gridHeight, int gridWidth)
    {
        if (auxCam.dim() != 4) throw new ArgumentException($"PatchTokenContrast: expected an aux CAM (B, C, H, W), got ({string.Join(", ", auxCam.shape)})");
        using var noGrad = torch.no_grad();
        using var cam = auxCam.detach();
        return torch.nn.functional.interpolate(cam, size: [gridHeight, gridWidth], mode: "bilinear", align_corners: false);
    }

    /// <summary>Token labels (B, gridH, gridW) (Int32: 0 background, c + 1 class c, ignoreIndex): the resized aux CAM in
    /// two-threshold mode (the reference's <c>pseudo_label_aux</c>).</summary>
    public static Tensor TokenLabels(Tensor auxCam, Tensor classLabels, int gridHeight, int gridWidth, float high, float low, int ignoreIndex = 255)
    {
        using var resized = ResizeCam(auxCam, gridHeight, gridWidth);
        return CamLabels.TwoThreshold(resized, classLabels, high, low, ignoreIndex);
    }

    /// <summary>
    /// The pair mask (B, N, N), N = gridH·gridW, Float32 with the reference's values: 1 = same label, 0 = different,
    /// <paramref name="ignoreIndex"/> = a pair with an ignored token, and the diagonal (the reference's <c>aff_mask</c>).
    /// </summary>
    public static Tensor AffinityMask(Tensor tokenLabels, int ignoreIndex = 255)
    {
        if (tokenLabels.dim() != 3) throw new ArgumentException($"PatchTokenContrast: expected token labels (B, gridH, gridW), got ({string.Join(", ", tokenLabels.shape)})");
        int b = tokenLabels.size(0), n = tokenLabels.size(1) * tokenLabels.size(2);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var labels = (tokenLabels.DType == DType.Float32 ? tokenLabels.detach() : tokenLabels.to(DType.Float32)).reshape(b, n);
        var rows = labels.reshape(b, n, 1);
        var cols = labels.reshape(b, 1, n);
        var same = rows.eq(cols);                                                   // (B, N, N)
        var ignoredRow = rows.eq(ignoreIndex);
        var ignoredCol = cols.eq(ignoreIndex);
        var diagonal = Eye(n, tokenLabels.device).reshape(1, n, n);
        var excluded = ignoredRow.add(ignoredCol).add(diagonal).gt(0f);
        var mask = torch.where(excluded, torch.scalar_tensor(ignoreIndex, tokenLabels.device), same);
        return mask.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The PTC loss of the final patch-token feature map (B, D, gridH, gridW) ("top_fmap") given the pair mask (B, N, N)
    /// (Float32 or Int32; 1 = positive, 0 = negative, anything else excluded). Tokens are L2-normalised over channels with
    /// eps 1e-8 (F.normalize). A 0-D tensor, differentiable in the feature map.
    /// </summary>
    public static Tensor Loss(Tensor featureMap, Tensor affinityMask)
    {
        if (featureMap.dim() != 4) throw new ArgumentException($"PatchTokenContrast: expected a feature map (B, D, gridH, gridW), got ({string.Join(", ", featureMap.shape)})");
        int b = featureMap.size(0), d = featureMap.size(1), n = featureMap.size(2) * featureMap.size(3);
        if (affinityMask.dim() != 3 || affinityMask.size(0) != b || affinityMask.size(1) != n || affinityMask.size(2) != n)
            throw new ArgumentException($"PatchTokenContrast: pair mask ({string.Join(", ", affinityMask.shape)}) must be (B, N, N) = ({b}, {n}, {n}) for the feature map ({string.Join(", ", featureMap.shape)})");
        Tensor positive, negative, positiveCount, negativeCount;
        using (torch.no_grad())
        {
            using var m = affinityMask.DType == DType.Float32 ? affinityMask.detach() : affinityMask.to(DType.Float32);
            positive = m.eq(1f);
            negative = m.eq(0f);
            using var ps = positive.sum();
            using var ns = negative.sum();
            positiveCount = ps.add(1f);
            negativeCount = ns.add(1f);
        }
        // Graph intermediates (and the masks it reads) are left to the caller's dispose scope.
        var tokens = featureMap.reshape(b, d, n).transpose(1, 2);                   // (B, N, D)
        var similarity = torch.nn.functional.cosine_similarity_matrix(tokens, tokens, 1e-8f).abs();
        var positiveMean = similarity.mul(positive).sum().div(positiveCount);
        var negativeMean = similarity.mul(negative).sum().div(negativeCount);
        return positiveMean.rsub(1f).mul(0.5f).add(negativeMean.mul(0.5f));
    }

    static Tensor Eye(int n, Device device)
    {
        using var index = torch.arange(n, device);
        using var rows = index.reshape(n, 1);
        using var cols = index.reshape(1, n);
        return rows.eq(cols);
    }
}
