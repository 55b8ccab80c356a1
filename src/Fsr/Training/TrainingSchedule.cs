using FsrNative.Fsr.Losses;
using FsrNative.Model;
using FsrNative.Optim;

namespace FsrNative.Fsr.Training;

/// <summary>Everything the schedule says about one iteration (0-based <see cref="Iteration"/>; the reference's step = iteration + 1).</summary>
public sealed record ScheduleValues(
    long Iteration,
    double LrFactor,
    IReadOnlyList<double> GroupLr,
    double Momentum,
    double TeacherTemperature,
    LossWeights Weights,
    MaskStrategy MaskStrategy)
{
    public long Step => Iteration + 1;
}

/// <summary>
/// The schedules of an FSR run as the authors' code computes them, answering "at 0-based iteration n, what are the
/// learning rates of the four parameter groups, the EMA momentum, the teacher temperature, the loss weights and the
/// mask strategy":
/// <list type="bullet">
/// <item>LR (fsr-spec §7, CosWarmupAdamW): group base rate × factor, factor = 1 − (1 − n/W)(1 − r) for n &lt; W, then
/// 0.5·(1 + cos(π(n − W)/(T − W))); from n = T on the last rate stays (the reference stops updating it).</item>
/// <item>EMA momentum (§5, cosine_scheduler(momentum, 1, fsr_iters) then 1): 1 − (1 − m₀)(1 + cos(π n/F))/2 for n &lt; F, else 1.</item>
/// <item>Teacher temperature (§5, FSRLoss): np.linspace(τ₀, τ, W_t)[n] for n &lt; W_t, then τ.</item>
/// <item>Weights (§6.6, train_voc.py/train_coco.py): cls always; w_class, w_patch while n &lt; fsr_iters (else 0);
/// aff when step &gt; aff_start; seg and reg when step &gt; seg_start.</item>
/// <item>Mask strategy (§4): random while step ≤ random_iters, then uncertain (mask.strategy "random": random throughout).</item>
/// </list>
/// Built from a resolved configuration (no nulls).
/// </summary>
public sealed class TrainingSchedule
{
    /// <summary>The four AdamW parameter groups of fsr-spec §7, in order.</summary>
    public static IReadOnlyList<string> GroupNames { get; } = ["encoder_no_decay", "encoder_decay", "heads_no_decay", "heads_decay"];

    readonly FsrConfig _c;
    readonly long _fsrIters, _tempWarmup, _randomIters, _segStart;

    public TrainingSchedule(FsrConfig config)
    {
        _c = config;
        var o = config.Optim;
        long warmup = o.WarmupIters ?? throw Unresolved("optim.warmup_iters");
        _fsrIters = config.Fsr.FsrIters ?? throw Unresolved("fsr.fsr_iters");
        _tempWarmup = config.Fsr.TeacherTempWarmupIters ?? throw Unresolved("fsr.teacher_temp_warmup_iters");
        _randomIters = config.Mask.RandomIters ?? throw Unresolved("mask.random_iters");
        _segStart = config.Losses.SegStart ?? throw Unresolved("losses.seg_start");
        MaxIters = o.MaxIters;
        Lr = new WarmupCosineSchedule(warmup, o.WarmupRatio, o.MaxIters);
        Momentum = new CosineMomentumSchedule(config.Fsr.Momentum, 1.0, Math.Max(1, _fsrIters));
        TeacherTemperature = new LinearRampSchedule(config.Fsr.WarmupTeacherTemp, config.Fsr.TeacherTemp, _tempWarmup);
        double head = o.Lr * o.LrScale;   // the reference: args.lr * args.lr_scale
        BaseLr = [o.Lr, o.Lr, head, head];
        WeightDecay = [0, o.WeightDecay, 0, o.WeightDecay];
    }

    static InvalidOperationException Unresolved(string setting)
        => new($"TrainingSchedule: {setting} is null; resolve the configuration first (ConfigResolver.Resolve)");

    public long MaxIters { get; }
    public WarmupCosineSchedule Lr { get; }
    public CosineMomentumSchedule Momentum { get; }
    public LinearRampSchedule TeacherTemperature { get; }
    /// <summary>Base learning rates of the four groups (lr, lr, lr·lr_scale, lr·lr_scale).</summary>
    public IReadOnlyList<double> BaseLr { get; }
    /// <summary>Weight decay of the four groups (0, wd, 0, wd).</summary>
    public IReadOnlyList<double> WeightDecay { get; }

    public double LrFactor(long iteration) => Lr.Factor(iteration);

    public double[] GroupLr(long iteration)
    {
        double f = LrFactor(iteration);
        return BaseLr.Select(b => b * f).ToArray();   // the reference: init_lr[i] * lr_mult
    }

    public double MomentumAt(long iteration) => iteration < _fsrIters ? Momentum.Value(iteration) : 1.0;

    public double TeacherTemperatureAt(long iteration)
        // np.linspace(a, b, 1) is [a]: a one-step ramp starts at the warm-up temperature.
        => _tempWarmup == 1 && iteration == 0 ? TeacherTemperature.Start : TeacherTemperature.Value(iteration);

    public LossWeights WeightsAt(long iteration)
    {
        long step = iteration + 1;
        bool fsr = iteration < _fsrIters;
        var l = _c.Losses;
        return new LossWeights(
            Cls: l.WCls,
            FsrClass: fsr ? _c.Fsr.WClass : 0,
            FsrPatch: fsr && _c.Mask.Enabled ? _c.Fsr.WPatch : 0,   // unc.FSR has no masked tokens without masking (FSRLoss returns 0)
            Aff: step > l.AffStart ? l.WAff : 0,
            Seg: step > _segStart ? l.WSeg : 0,
            Reg: step > _segStart ? l.WReg : 0);
    }

    public MaskStrategy MaskStrategyAt(long iteration)
    {
        if (!_c.Mask.Enabled) return MaskStrategy.None;
        if (_c.Mask.Strategy == "random") return MaskStrategy.Random;
        return iteration + 1 <= _randomIters ? MaskStrategy.Random : MaskStrategy.Uncertain;
    }

    public ScheduleValues At(long iteration)
    {
        if (iteration < 0) throw new ArgumentOutOfRangeException(nameof(iteration), iteration, "iterations are counted from 0");
        return new ScheduleValues(iteration, LrFactor(iteration), GroupLr(iteration), MomentumAt(iteration), TeacherTemperatureAt(iteration),
            WeightsAt(iteration), MaskStrategyAt(iteration));
    }
}
