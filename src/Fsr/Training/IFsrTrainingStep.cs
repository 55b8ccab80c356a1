using FsrNative.Data.Loading;
using FsrNative.Nn;

namespace FsrNative.Fsr.Training;

/// <summary>
/// What the <see cref="Trainer"/> hands to one forward/loss evaluation: the schedule's values for the iteration
/// (learning rates already set on the optimiser, momentum for the EMA, teacher temperature, loss weights, mask
/// strategy), which micro-batch of the optimiser step this is, and the trainer's random generator (checkpointed,
/// so a resumed run draws the same numbers — use it for the mask generator's per-block uniforms).
/// </summary>
public sealed class StepContext
{
    public required ScheduleValues Schedule { get; init; }
    /// <summary>0-based iteration (the reference's n_iter).</summary>
    public long Iteration => Schedule.Iteration;
    /// <summary>Iteration + 1 (the reference's global_step; the stage switches compare against it).</summary>
    public long Step => Schedule.Step;
    /// <summary>0-based micro-batch within the optimiser step, and how many there are (optim.grad_accumulation).</summary>
    public required int MicroBatch { get; init; }
    public required int MicroBatches { get; init; }
    public required Generator Generator { get; init; }
    public required FsrConfig Config { get; init; }
    public required Device Device { get; init; }
}

/// <summary>
/// The result of one forward/loss evaluation: <see cref="Loss"/>, the weighted total as a scalar tensor attached to
/// the autograd graph (the trainer scales it by 1/micro-batches when accumulating and calls backward), and
/// <see cref="Terms"/>, every loss term's unweighted value by name (e.g. cls, aff, seg, reg, fsr_cls, fsr_pat; a
/// term that is off at this iteration is left out), which the trainer logs and checks for NaN/∞.
/// <see cref="Scalars"/> are further numbers to log (e.g. the ignored fraction of the pseudo labels); they are not checked.
/// <para>A step gives the numbers either as host values (<c>Terms</c>/<c>Scalars</c> set) or, to stay off the host, as
/// <see cref="Values"/>: still on the device, read by the trainer together with the gradient norm in its one
/// device→host read per optimiser step. <c>Terms</c>/<c>Scalars</c> of such a result read them on first use (a sync point
/// for callers outside the trainer, e.g. tests).</para>
/// </summary>
public sealed class StepResult
{
    IReadOnlyDictionary<string, double>? _terms, _scalars;

    public required Tensor Loss { get; init; }

    public IReadOnlyDictionary<string, double> Terms
    {
        get
        {
            if (_terms is null) ReadValues();
            return _terms!;
        }
        init => _terms = value;
    }

    public IReadOnlyDictionary<string, double>? Scalars
    {
        get
        {
            if (_terms is null && Values is not null) ReadValues();
            return _scalars;
        }
        init => _scalars = value;
    }

    /// <summary>The terms and scalars on the device (instead of <see cref="Terms"/>/<see cref="Scalars"/>).</summary>
    public StepValues? Values { get; init; }

    void ReadValues()
    {
        if (Values is null) throw new InvalidOperationException("StepResult: neither Terms nor Values was given");
        var (terms, scalars) = Values.Split(Values.Packed.ToArray());   // sync point: on-demand read outside the trainer
        _terms = terms;
        _scalars = scalars;
    }
}

/// <summary>
/// A step's loss terms and logged scalars still on the device: one 1-D Float32 tensor (detached) holding
/// [<see cref="TermNames"/>…, <see cref="ScalarNames"/>…] in that order, so that the trainer reads them with the gradient
/// norm in one transfer.
/// </summary>
public sealed class StepValues
{
    public StepValues(IReadOnlyList<string> termNames, IReadOnlyList<string> scalarNames, Tensor packed)
    {
        if (packed.dim() != 1 || packed.size(0) != termNames.Count + scalarNames.Count)
            throw new ArgumentException($"StepValues: packed tensor {Shape.Format(packed.shape)} must be 1-D with {termNames.Count} terms + {scalarNames.Count} scalars");
        TermNames = termNames;
        ScalarNames = scalarNames;
        Packed = packed;
    }

    public IReadOnlyList<string> TermNames { get; }
    public IReadOnlyList<string> ScalarNames { get; }
    public Tensor Packed { get; }

    /// <summary>Names the values read from <see cref="Packed"/> (starting at <paramref name="start"/>).</summary>
    public (Dictionary<string, double> terms, Dictionary<string, double> scalars) Split(ReadOnlySpan<float> values, int start = 0)
    {
        var terms = new Dictionary<string, double>();
        var scalars = new Dictionary<string, double>();
        for (int i = 0; i < TermNames.Count; i++) terms[TermNames[i]] = values[start + i];
        for (int i = 0; i < ScalarNames.Count; i++) scalars[ScalarNames[i]] = values[start + TermNames.Count + i];
        return (terms, scalars);
    }
}

/// <summary>
/// The FSR training step behind the trainer's loop (fsr-spec §4): everything model- and loss-specific. The trainer
/// owns data loading, the schedule, the optimiser (AdamW over <see cref="Parameters"/> in the four §7 groups),
/// zero_grad/backward/step, gradient accumulation, checkpoints of <see cref="Modules"/> and <see cref="Generators"/>,
/// logging, progress, the NaN/∞ guard and evaluation. Per optimiser step the trainer calls, for each micro-batch,
/// <see cref="Step"/> (inside a dispose scope; then backward on the returned loss), then the optimiser step, then
/// <see cref="AfterOptimizerStep"/> once (the teacher's EMA update with <c>context.Schedule.Momentum</c>).
/// </summary>
public interface IFsrTrainingStep : IDisposable
{
    /// <summary>
    /// Everything whose state a checkpoint must hold, by name: at least "student" and "teacher"; state that is not a
    /// parameter (the FSR centres) as persistent buffers of a module (e.g. "fsr_loss"). Restored by name on resume.
    /// </summary>
    IReadOnlyDictionary<string, Module> Modules { get; }

    /// <summary>The student's trainable parameters, split into encoder and heads for the optimiser's groups.</summary>
    FsrParameterSplit Parameters { get; }

    /// <summary>Further random generators the step owns (e.g. drop-path), checkpointed and restored by name.</summary>
    IReadOnlyDictionary<string, Generator> Generators => new Dictionary<string, Generator>();

    /// <summary>One forward pass and the weighted loss for <paramref name="batch"/> (views V1, V2, labels) at <paramref name="context"/>.</summary>
    StepResult Step(Batch batch, StepContext context);

    /// <summary>After the optimiser step: the teacher's EMA update (fsr-spec §4 step 9).</summary>
    void AfterOptimizerStep(StepContext context);
}

/// <summary>What an evaluation hook gets: the step just finished, whether it is the last, the training step (its modules), the run,
/// and where the trainer writes its messages (null: the console).</summary>
public sealed record EvaluationContext(long Step, bool Final, IFsrTrainingStep TrainingStep, FsrConfig Config, RunFolder Run, Device Device,
    TextWriter? Output = null);

/// <summary>
/// In-training validation (fsr-spec §8.3): called every eval.interval steps and at the end of the run; returns named
/// scores (e.g. student.seg_miou, teacher.cam_miou), which the trainer writes to metrics.jsonl and eval/step-N.json.
/// </summary>
public interface ITrainingEvaluator
{
    IReadOnlyDictionary<string, double> Evaluate(EvaluationContext context);
}
