using FsrNative.Fsr.Losses;

namespace FsrNative.Tests.Fsr;

/// <summary>The total (fsr-spec §4 step 8, §6.6): weights, order, skipped terms. The staging and the teacher temperature
/// are TrainingSchedule's (tests/Training/ScheduleTests, golden ScheduleGoldenTests).</summary>
public class LossScheduleTests
{
    [Fact]
    public void Total_weights_terms_and_skips_inactive_ones()
    {
        using var scope = torch.NewDisposeScope();
        Tensor T(float v) => torch.tensor([v], 1);
        var terms = new LossTerms { TopCls = T(1), AuxCls = T(2), FsrClass = T(3), FsrPatch = T(4), Aff = T(5), Seg = T(float.NaN), Reg = null };
        var w = new LossWeights(1, 0.1, 0.1, 0.2, 0, 0);
        Assert.Equal(1 + 2 + 0.3f + 0.4f + 1f, LossTotal.Compute(terms, w).item(), 6);   // NaN seg and missing reg skipped
        Assert.Equal(2 * (1 + 2) + 0.3f + 0.4f + 1f, LossTotal.Compute(terms, w with { Cls = 2 }).item(), 6);
        var ex = Assert.Throws<ArgumentException>(() => LossTotal.Compute(terms, w with { Reg = 0.05 }));
        Assert.Contains("Reg", ex.Message);
    }
}
