namespace FsrNative.Fsr.Training;

/// <summary>
/// Where the FSR training step (<see cref="FsrTrainingStep"/>, fsr-spec §4) and its validation (fsr-spec §8.3) plug into
/// the <c>fsr</c> verbs (see docs/training.md, "Wiring the FSR step", and docs/fsr-iteration.md).
/// </summary>
public static class TrainingComponents
{
    /// <summary>Builds the FSR training step (student, teacher, losses; fsr-spec §4) for a resolved configuration on a device.</summary>
    public static Func<FsrConfig, Device, IFsrTrainingStep>? StepFactory => (config, device) => new FsrTrainingStep(config, device);

    /// <summary>Builds the in-training validation (fsr-spec §8.3) for a configuration.</summary>
    public static Func<FsrConfig, Device, ITrainingEvaluator>? EvaluatorFactory => (config, device) => new FsrEvaluator(config, device);

    /// <summary>The message the verbs print when a factory is null (verbs called with a null factory, e.g. in tests).</summary>
    public static string MissingStep(string verb) =>
        $"fsr {verb}: the FSR training step is not wired in yet. This verb needs the FSR network (WsssNetwork, src/Fsr/Model) and its " +
        "losses and PAR pseudo labels (src/Fsr/Losses, src/Fsr/PseudoLabels) behind IFsrTrainingStep, returned by " +
        "TrainingComponents.StepFactory (src/Fsr/Training/TrainingComponents.cs). The configuration above is valid; " +
        "nothing was trained and no run folder was created.";
}
