namespace FsrNative.Model;

/// <summary>
/// What <see cref="FsrEncoder.forward"/> computed for N images on a gh×gw patch grid (T = gh·gw tokens, row-major),
/// named after the golden file's <c>S.enc.*</c> tensors (golden README §4.2). The tensors belong to the caller's
/// dispose scope; all but <see cref="out_"/> and <see cref="aux"/> are exposed for inspection and tests.
/// </summary>
public sealed record EncoderOutput
{
    /// <summary>Patch-embedding convolution output before masking, as tokens (N, T, D) (the golden <c>enc.patch_embed</c>
    /// is the same values laid out (N, D, gh, gw)).</summary>
    public required Tensor patch_embed { get; init; }
    /// <summary>Tokens entering block 0: masked positions replaced by the mask token, then the position embedding added (N, T, D).</summary>
    public required Tensor tokens_in { get; init; }
    /// <summary>Output of every patch-token block (N, T, D), in order.</summary>
    public required IReadOnlyList<Tensor> blocks { get; init; }
    /// <summary>The class token after each aggregation block (N, 1, D); empty with GAP/GMP pooling.</summary>
    public required IReadOnlyList<Tensor> cls_after_cablock { get; init; }
    /// <summary>Final LayerNorm of [class token; patch tokens]: (N, 1 + T, D), row 0 the aggregated class token (the
    /// golden <c>enc.out</c>; <c>out</c> is a C# keyword, hence the underscore).</summary>
    public required Tensor out_ { get; init; }
    /// <summary>Aux features: the output of block <see cref="FsrModelConfig.AuxBlockIndex"/>, not normalised (N, T, D).</summary>
    public required Tensor aux { get; init; }
    /// <summary>The patch grid (gh, gw) of this input.</summary>
    public required (int h, int w) grid { get; init; }
}
