namespace FsrNative.Fsr.Training;

/// <summary>
/// Where the FSR training step and its validation plug into the <c>fsr</c> verbs. Both are null until the FSR
/// network (src/Fsr/Model) and its losses and pseudo labels (src/Fsr/Losses, src/Fsr/PseudoLabels) are wired here;
/// until then <c>fsr train</c>, <c>eval</c>, <c>infer</c> and <c>ablate</c> check the configuration and then say
/// that the step is missing — they never train a stand-in. Wiring: return the step built from the configuration
/// (see docs/training.md, "Wiring the FSR step").
/// </summary>
public static class TrainingComponents
{
    /// <summary>Builds the FSR training step (student, teacher, losses; fsr-spec §4) for a resolved configuration on a device.</summary>
    public static Func<FsrConfig, Device, IFsrTrainingStep>? StepFactory => (config, device) => new FsrTrainingStep(config, device);

    /// <summary>Builds the in-training validation (fsr-spec §8.3) for a configuration.</summary>
    public static Func<FsrConfig, Device, ITrainingEvaluator>? EvaluatorFactory => (config, device) => new FsrEvaluator(config, device);

    /// <summary>The message the verbs print while <see cref="StepFactory"/> is null.</summary>
    public static string MissingStep(string verb) =>
        $"fsr {verb}: the FSR training step is not wired in yet. This verb needs the FSR network (WsssNetwork, src/Fsr/Model) and its " +
        "losses and PAR pseudo labels (src/Fsr/Losses, src/Fsr/PseudoLabels) behind IFsrTrainingStep, returned by " +
        "TrainingComponents.StepFactory (src/Fsr/Training/TrainingComponents.cs). The configuration above is valid; " +
        "nothing was trained and no run folder was created.";
}
