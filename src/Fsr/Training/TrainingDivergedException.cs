namespace FsrNative.Fsr.Training;

/// <summary>
/// A loss term (or the gradient norm) became NaN or infinite: training stopped before the optimiser applied that
/// step, and no checkpoint was written after the last good one (<see cref="LastGoodCheckpoint"/>, null when none
/// was saved yet).
/// </summary>
public sealed class TrainingDivergedException(string term, double value, long step, string? lastGoodCheckpoint)
    : Exception($"training stopped at step {step}: {term} is {Describe(value)}; the model was not updated with it. " +
        (lastGoodCheckpoint is null ? "No checkpoint had been saved yet." : $"The last good checkpoint is {lastGoodCheckpoint} (resume with --resume {lastGoodCheckpoint})."))
{
    public string Term { get; } = term;
    public double Value { get; } = value;
    /// <summary>The step (iteration + 1) whose evaluation failed.</summary>
    public long Step { get; } = step;
    public string? LastGoodCheckpoint { get; } = lastGoodCheckpoint;

    static string Describe(double v) => double.IsNaN(v) ? "NaN" : v > 0 ? "+∞" : "−∞";
}
