namespace FsrNative.Fsr.Losses;

/// <summary>
/// The weight every loss term gets in the total at an iteration (fsr-spec §6.6), as <c>TrainingSchedule.WeightsAt</c>
/// answers it: <see cref="Cls"/> multiplies MLSM main + aux; 0 for a term that is not active yet (seg/reg from
/// step &gt; seg_start, aff from step &gt; aff_start, FSR terms while iteration &lt; fsr_iters). A term whose weight is 0
/// is skipped — not evaluated and multiplied by 0 — so a NaN there cannot poison the total (fsr-spec §12).
/// </summary>
public sealed record LossWeights(double Cls, double FsrClass, double FsrPatch, double Aff, double Seg, double Reg);
