namespace FsrNative.Model;

/// <summary>
/// The named outputs of <see cref="WsssNetwork.forward"/> (the reference's output dict, golden <c>S.out.*</c> /
/// <c>T.out.*</c>). N = rows fed in; B = rows the heads see (N, or the first view's N/2 with two views); C = foreground
/// classes; K = C + 1; D = width; gh×gw = patch grid. Tensors belong to the caller's dispose scope.
/// </summary>
public sealed record WsssOutput
{
    /// <summary>Main classifier logits (B, C): global max pooling of <see cref="top_fmap"/>, then the 1×1 conv.</summary>
    public required Tensor top_cls_out { get; init; }
    /// <summary>Aux classifier logits (B, C) from <see cref="aux_fmap"/>.</summary>
    public required Tensor aux_cls_out { get; init; }
    /// <summary>Projector output for every token of every row (N, 1 + T, out_dim); row 0 of each image is the
    /// aggregated class token.</summary>
    public required Tensor project_out { get; init; }
    /// <summary>LargeFOV logits (B, K, gh, gw).</summary>
    public required Tensor seg_out { get; init; }
    /// <summary>ReLU(1×1 conv) main CAM (B, C, gh, gw), computed without gradient.</summary>
    public required Tensor top_cam { get; init; }
    /// <summary>ReLU(1×1 conv) aux CAM (B, C, gh, gw), computed without gradient.</summary>
    public required Tensor aux_cam { get; init; }
    /// <summary>Final-normalised patch tokens as a map (B, D, gh, gw) (the PTC loss's input).</summary>
    public required Tensor top_fmap { get; init; }
    /// <summary>Aux features (block AuxBlockIndex, not normalised) as a map (B, D, gh, gw).</summary>
    public required Tensor aux_fmap { get; init; }
    /// <summary>The encoder's outputs and intermediates for all N rows (golden <c>S.enc.*</c>).</summary>
    public required EncoderOutput encoder { get; init; }
}
