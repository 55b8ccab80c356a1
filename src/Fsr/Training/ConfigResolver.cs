using System.Globalization;

namespace FsrNative.Fsr.Training;

/// <summary>
/// Fills the settings left null with the values the authors' scripts derive from max_iters (and VOC's ratios
/// where the scripts hard-code VOC numbers), so that a preset rescales with <c>--steps</c>:
/// <list type="bullet">
/// <item>fsr.fsr_iters = max_iters (train_voc.py's default equals max_iters);</item>
/// <item>fsr.teacher_temp_warmup_iters = ⌊max_iters/8⌋ (FSRLoss warmup_epochs = int(max_iters / 8), fsr-spec §5);</item>
/// <item>mask.random_iters = ⌊max_iters/5⌋ (random strategy while step ≤ max_iters // 5, §4);</item>
/// <item>optim.warmup_iters = ⌊0.075·max_iters⌋ (VOC 1500 of 20,000); losses.seg_start and eval.interval = ⌊max_iters/10⌋ (VOC 2000 of 20,000);</item>
/// <item>data.root of the synthetic dataset = &lt;run.out&gt;/data/synthetic-s&lt;seed&gt;-&lt;size&gt;px-&lt;train&gt;-&lt;val&gt;; data.workers = cores − 1 (at least 1).</item>
/// </list>
/// Already-set values are kept. Negative max_iters is left for the validator to report.
/// </summary>
public static class ConfigResolver
{
    public static void Resolve(FsrConfig c)
    {
        long t = Math.Max(0, c.Optim.MaxIters);
        c.Optim.WarmupIters ??= t * 3 / 40;
        c.Fsr.FsrIters ??= t;
        c.Fsr.TeacherTempWarmupIters ??= t / 8;
        c.Mask.RandomIters ??= t / 5;
        c.Losses.SegStart ??= t / 10;
        c.Eval.Interval ??= t / 10;
        c.Data.Workers ??= Math.Max(1, Environment.ProcessorCount - 1);
        if (c.Data.Root is null && c.Data.Dataset == "synthetic")
            c.Data.Root = Path.Combine(c.Run.Out, "data", string.Create(CultureInfo.InvariantCulture,
                $"synthetic-s{c.Data.SyntheticSeed}-{c.Data.SyntheticSize}px-{c.Data.SyntheticTrain}-{c.Data.SyntheticVal}"));
    }
}
