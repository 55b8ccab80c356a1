using FsrNative.Optim;

namespace FsrNative.Fsr.Losses;

/// <summary>
/// Loss weights, their staged start and the FSR teacher-temperature schedule (fsr-spec §5, §6.6, §9), as the reference's
/// training scripts build them. Iterations are 0-based (<c>it</c>); a staged term is active when step = it + 1 exceeds
/// its start step.
/// </summary>
public sealed record LossScheduleOptions
{
    /// <summary>Total iterations (VOC 20,000; COCO 80,000).</summary>
    public required long MaxIters { get; init; }
    /// <summary>Iterations with the FSR losses on (the reference's <c>fsr_iters</c>; w_class = w_patch = 0 afterwards).
    /// Null = <see cref="MaxIters"/>.</summary>
    public long? FsrIters { get; init; }
    public double WClass { get; init; } = 0.1;
    public double WPatch { get; init; } = 0.1;
    public double WAff { get; init; } = 0.2;
    public double WSeg { get; init; } = 0.1;
    public double WReg { get; init; } = 0.05;
    /// <summary>Segmentation and dense-energy terms are on for step &gt; this (VOC 2,000; COCO 8,000).</summary>
    public long SegStartStep { get; init; } = 2000;
    /// <summary>PTC is on for step &gt; this (VOC 0 = always; COCO 12,000).</summary>
    public long AffStartStep { get; init; }
    public double TeacherTemperatureStart { get; init; } = 0.04;
    public double TeacherTemperatureEnd { get; init; } = 0.07;
    /// <summary>Length of the teacher-temperature ramp; null = ⌊MaxIters/8⌋ (the reference's <c>int(max_iters / 8)</c>).</summary>
    public long? TeacherWarmupIters { get; init; }

    public static LossScheduleOptions Voc(long maxIters = 20000) => new() { MaxIters = maxIters };
    public static LossScheduleOptions Coco(long maxIters = 80000) => new() { MaxIters = maxIters, SegStartStep = 8000, AffStartStep = 12000 };
}

/// <summary>The weights of one iteration (0 = inactive: the total skips the term, fsr-spec §12).</summary>
public sealed record LossWeights(double TopCls, double AuxCls, double FsrClass, double FsrPatch, double Aff, double Seg, double Reg);

/// <summary>The schedule of <see cref="LossScheduleOptions"/> as functions of the 0-based iteration.</summary>
public sealed class LossSchedule
{
    readonly LinearRampSchedule _teacherTemperature;

    public LossSchedule(LossScheduleOptions options)
    {
        if (options.MaxIters < 1) throw new ArgumentException($"LossSchedule: MaxIters must be positive, got {options.MaxIters}");
        if (options.FsrIters is < 0) throw new ArgumentException($"LossSchedule: FsrIters must not be negative, got {options.FsrIters}");
        Options = options;
        long warmup = options.TeacherWarmupIters ?? options.MaxIters / 8;
        if (warmup < 0) throw new ArgumentException($"LossSchedule: TeacherWarmupIters must not be negative, got {warmup}");
        _teacherTemperature = new LinearRampSchedule(options.TeacherTemperatureStart, options.TeacherTemperatureEnd, warmup);
    }

    public LossScheduleOptions Options { get; }

    /// <summary>τ_t(it) (fsr-spec §5): np.linspace(start, end, W) for it &lt; W, then end.</summary>
    public double TeacherTemperature(long it) => _teacherTemperature.Value(it);

    /// <summary>Weight of the class-token FSR loss: w_class while it &lt; FsrIters, else 0.</summary>
    public double WClass(long it) => it < (Options.FsrIters ?? Options.MaxIters) ? Options.WClass : 0;

    /// <summary>Weight of the masked-patch FSR loss: w_patch while it &lt; FsrIters, else 0.</summary>
    public double WPatch(long it) => it < (Options.FsrIters ?? Options.MaxIters) ? Options.WPatch : 0;

    /// <summary>Whether the segmentation and dense-energy terms count at iteration it (step = it + 1 &gt; SegStartStep).</summary>
    public bool SegActive(long it) => it + 1 > Options.SegStartStep;

    /// <summary>Whether the PTC term counts at iteration it (step = it + 1 &gt; AffStartStep).</summary>
    public bool AffActive(long it) => it + 1 > Options.AffStartStep;

    /// <summary>All weights of iteration it (fsr-spec §6.6).</summary>
    public LossWeights Weights(long it) => new(
        TopCls: 1, AuxCls: 1,
        FsrClass: WClass(it), FsrPatch: WPatch(it),
        Aff: AffActive(it) ? Options.WAff : 0,
        Seg: SegActive(it) ? Options.WSeg : 0,
        Reg: SegActive(it) ? Options.WReg : 0);
}
