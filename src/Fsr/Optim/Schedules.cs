namespace FsrNative.Optim;

/// <summary>A learning-rate multiplier as a function of the 0-based step.</summary>
public interface ILrSchedule
{
    double Factor(long step);
}

/// <summary>
/// Linear warm-up from <c>WarmupRatio</c> of the base rate over <c>WarmupIters</c> steps (ToCo/FSR's form
/// 1 − (1 − s/W)(1 − r)), then cosine decay 0.5·(1 + cos(π·(s − W)/(T − W))) to 0 at <c>MaxIters</c> = T
/// (fsr-spec §7: W = 1500, r = 0.1). Steps at or past T keep the last value (that of T − 1), as the reference
/// optimiser stops updating its rate there.
/// </summary>
public sealed record WarmupCosineSchedule(long WarmupIters, double WarmupRatio, long MaxIters) : ILrSchedule
{
    public double Factor(long step)
    {
        if (MaxIters <= WarmupIters) throw new ArgumentException($"WarmupCosineSchedule: max iterations {MaxIters} must exceed the warm-up {WarmupIters}");
        long s = Math.Clamp(step, 0, MaxIters - 1);
        if (s < WarmupIters) return 1 - (1 - (double)s / WarmupIters) * (1 - WarmupRatio);
        return 0.5 * (1 + Math.Cos(Math.PI * (s - WarmupIters) / (MaxIters - WarmupIters)));
    }
}

/// <summary>
/// Linear warm-up as <see cref="WarmupCosineSchedule"/>, then ToCo's polynomial decay (1 − s/T)^power (note: s/T
/// over the whole run, not only the part after the warm-up, as ToCo's PolyWarmupAdamW computes it).
/// </summary>
public sealed record WarmupPolySchedule(long WarmupIters, double WarmupRatio, long MaxIters, double Power = 0.9) : ILrSchedule
{
    public double Factor(long step)
    {
        long s = Math.Clamp(step, 0, MaxIters - 1);
        if (s < WarmupIters) return 1 - (1 - (double)s / WarmupIters) * (1 - WarmupRatio);
        return Math.Pow(1 - (double)s / MaxIters, Power);
    }
}

/// <summary>
/// Applies an <see cref="ILrSchedule"/> to an optimiser: <see cref="set_step"/>(s) sets every group's lr to its
/// initial_lr × Factor(s) (call it before the optimiser step of 0-based step s, fsr-spec §4 "LR set for this step
/// first"); <see cref="step"/> advances by one, torch-style. The position is <see cref="last_step"/>, part of a
/// training checkpoint.
/// </summary>
public sealed class LRScheduler
{
    public LRScheduler(Optimizer optimizer, ILrSchedule schedule)
    {
        this.optimizer = optimizer;
        this.schedule = schedule;
    }

    public Optimizer optimizer { get; }
    public ILrSchedule schedule { get; }
    /// <summary>The step whose rates are set (−1 before the first <see cref="set_step"/>).</summary>
    public long last_step { get; private set; } = -1;

    public void set_step(long step)
    {
        double f = schedule.Factor(step);
        foreach (var g in optimizer.param_groups) g.lr = g.initial_lr * f;
        last_step = step;
    }

    public void step() => set_step(last_step + 1);

    /// <summary>Restores the position (from a checkpoint) without touching the rates, which the optimiser's own
    /// state dict restores.</summary>
    public void load_position(long lastStep) => last_step = lastStep;

    public double[] get_last_lr() => optimizer.param_groups.Select(g => g.lr).ToArray();
}

/// <summary>
/// The teacher's EMA momentum (fsr-spec §4 step 9, §5): rises from <c>Base</c> to <c>Final</c> along a half cosine
/// over <c>MaxIters</c>: m(it) = Final − (Final − Base)·(1 + cos(π·it/T))/2; with Base 0.9995 and Final 1 this is
/// 1 − 0.5·(1 − 0.9995)·(1 + cos(π·it/T)).
/// </summary>
public sealed record CosineMomentumSchedule(double Base, double Final, long MaxIters)
{
    public double Value(long it) => Final - (Final - Base) * (1 + Math.Cos(Math.PI * it / MaxIters)) / 2;
}

/// <summary>
/// The teacher temperature of fsr-spec §5: τ(it) = Start + (End − Start)·it/(W − 1) for it &lt; W (an endpoint-inclusive
/// linear ramp, so τ = End already at it = W − 1), End afterwards; VOC: 0.04 → 0.07 over W = ⌊20000/8⌋ = 2500.
/// </summary>
public sealed record LinearRampSchedule(double Start, double End, long WarmupIters)
{
    public double Value(long it)
    {
        if (it >= WarmupIters) return End;
        if (WarmupIters <= 1) return End;
        return Start + (End - Start) * it / (WarmupIters - 1);
    }
}
