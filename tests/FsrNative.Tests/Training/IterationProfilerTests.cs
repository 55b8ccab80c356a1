using FsrNative.Fsr.Training;
using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Training;

/// <summary>
/// <see cref="IterationProfiler"/>: <c>Time</c> (the GPU runner's fsr-step benchmark, bench/gpu) and <c>Run</c>
/// (<c>fsr train --profile-steps</c>) share one iteration body; both run the real step at the profiled iteration.
/// Time resets the allocator's process-wide peak counter, so these run alone (the AllocatorCounters collection).
/// </summary>
[Trait(Categories.Trait, TrainingCategory.Name)]
[Collection(nameof(FsrNative.Tests.Engine.AllocatorCounters))]
public class IterationProfilerTests
{
    [Fact]
    public void Time_runs_the_step_and_reports_ms_per_iteration_and_the_allocator_peak()
    {
        var c = FsrTrainingStepTests.Config();
        var t = IterationProfiler.Time(c, Device.CPU, warmup: 1, steps: 2);
        Assert.True(t.MillisecondsPerIteration > 0, $"ms/iteration {t.MillisecondsPerIteration}");
        Assert.Equal(IterationProfiler.ProfileIteration(c), t.Iteration);
        using (var step = new FsrTrainingStep(c, Device.CPU)) Assert.Equal(step.Student.num_parameters(), t.Parameters);
        // At least student + teacher weights, the gradients and AdamW's two moments were live at once (4 bytes each).
        long floor = 5L * 4 * t.Parameters;
        Assert.True(t.PeakTensorBytes >= floor, $"peak {t.PeakTensorBytes} B < {floor} B");
        Assert.True(t.PeakRssBytes is null or > 0);
    }

    [Fact]
    public void Time_rejects_no_timed_steps_and_Run_still_prints_every_phase()
    {
        var c = FsrTrainingStepTests.Config();
        var e = Assert.Throws<ArgumentException>(() => IterationProfiler.Time(c, Device.CPU, warmup: 0, steps: 0));
        Assert.Contains("steps 0", e.Message);
        var output = new StringWriter();
        IterationProfiler.Run(c, Device.CPU, 1, output);
        foreach (var phase in new[] { "cam", "student_forward", "teacher_forward", "pseudo_labels", "seg_losses", "ptc", "fsr_losses", "backward", "optimizer", "ema", "iteration" })
            Assert.Contains("\n" + phase + " ", output.ToString());
    }
}
