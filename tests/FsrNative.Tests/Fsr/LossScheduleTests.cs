using FsrNative.Fsr.Losses;

namespace FsrNative.Tests.Fsr;

/// <summary>The loss schedule (fsr-spec §5, §6.6) at its boundaries for the VOC and COCO presets, and the total
/// (weights, order, skipped terms).</summary>
public class LossScheduleTests
{
    [Fact]
    public void Voc_staging_and_teacher_temperature()
    {
        var s = new LossSchedule(LossScheduleOptions.Voc());
        // W = ⌊20000/8⌋ = 2500: τ = 0.04 + 0.03·it/2499 for it < 2500, then 0.07 (np.linspace is endpoint-inclusive).
        Assert.Equal(0.04, s.TeacherTemperature(0), 15);
        Assert.Equal(0.04 + 0.03 * 1000 / 2499.0, s.TeacherTemperature(1000), 15);
        Assert.Equal(0.07, s.TeacherTemperature(2499), 15);
        Assert.Equal(0.07, s.TeacherTemperature(2500), 15);
        Assert.Equal(0.07, s.TeacherTemperature(19999), 15);
        // seg and reg from step 2001 (it 2000); aff and FSR always.
        var before = s.Weights(1999);
        var after = s.Weights(2000);
        Assert.Equal(new LossWeights(1, 1, 0.1, 0.1, 0.2, 0, 0), before);
        Assert.Equal(new LossWeights(1, 1, 0.1, 0.1, 0.2, 0.1, 0.05), after);
    }

    [Fact]
    public void Coco_staging()
    {
        var s = new LossSchedule(LossScheduleOptions.Coco());
        Assert.Equal(10000 - 1, Enumerable.Range(0, 20000).First(i => s.TeacherTemperature(i) == 0.07));
        Assert.Equal(new LossWeights(1, 1, 0.1, 0.1, 0, 0, 0), s.Weights(7999));
        Assert.Equal(new LossWeights(1, 1, 0.1, 0.1, 0, 0.1, 0.05), s.Weights(8000));
        Assert.Equal(new LossWeights(1, 1, 0.1, 0.1, 0, 0.1, 0.05), s.Weights(11999));
        Assert.Equal(new LossWeights(1, 1, 0.1, 0.1, 0.2, 0.1, 0.05), s.Weights(12000));
    }

    [Fact]
    public void Fsr_weights_stop_after_fsr_iters()
    {
        var s = new LossSchedule(LossScheduleOptions.Voc() with { FsrIters = 100 });
        Assert.Equal(0.1, s.WClass(99));
        Assert.Equal(0.1, s.WPatch(99));
        Assert.Equal(0.0, s.WClass(100));
        Assert.Equal(0.0, s.WPatch(100));
    }

    [Fact]
    public void Total_weights_terms_and_skips_inactive_ones()
    {
        using var scope = torch.NewDisposeScope();
        Tensor T(float v) => torch.tensor([v], 1);
        var terms = new LossTerms { TopCls = T(1), AuxCls = T(2), FsrClass = T(3), FsrPatch = T(4), Aff = T(5), Seg = T(float.NaN), Reg = null };
        var w = new LossWeights(1, 1, 0.1, 0.1, 0.2, 0, 0);
        Assert.Equal(1 + 2 + 0.3f + 0.4f + 1f, LossTotal.Compute(terms, w).item(), 6);   // NaN seg and missing reg skipped
        var ex = Assert.Throws<ArgumentException>(() => LossTotal.Compute(terms, w with { Reg = 0.05 }));
        Assert.Contains("Reg", ex.Message);
    }
}
