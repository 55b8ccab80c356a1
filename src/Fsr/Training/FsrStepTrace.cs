namespace FsrNative.Fsr.Training;

/// <summary>
/// What one <see cref="FsrTrainingStep.Step"/> decided, kept when <see cref="FsrTrainingStep.KeepTrace"/> is on (tests,
/// diagnostics): the per-block draws and the view-2 token mask (null without masking), the PAR pseudo labels of view 1
/// (null while the seg/reg terms are off) and every loss term's value, the two classification terms and the weighted
/// total included. The tensors are copies owned by the trace (outside every dispose scope).
/// </summary>
public sealed class FsrStepTrace : IDisposable
{
    /// <summary>The mask generator's uniforms (B, blocks).</summary>
    public Tensor? Noise { get; init; }
    /// <summary>The view-2 token mask (B, gh, gw), Float32, 1 = masked.</summary>
    public Tensor? Mask2 { get; init; }
    /// <summary>PAR pseudo labels of view 1 (B, H, W), Int32 (0 background, c + 1 class c, 255 ignored).</summary>
    public Tensor? PseudoLabels { get; init; }
    /// <summary>Unweighted terms by the golden names (top_cls, aux_cls, cls, aff, seg, reg, fsr_cls, fsr_pat) and the
    /// weighted total (total).</summary>
    public required IReadOnlyDictionary<string, double> Losses { get; init; }

    public void Dispose()
    {
        Noise?.Dispose();
        Mask2?.Dispose();
        PseudoLabels?.Dispose();
    }
}
