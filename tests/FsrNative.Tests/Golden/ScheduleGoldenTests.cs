using System.Text.Json;
using FsrNative.Fsr.Training;
using FsrNative.Model;
using Xunit.Abstractions;

namespace FsrNative.Tests.Golden;

/// <summary>
/// <see cref="TrainingSchedule"/> against the authors' code: the per-step learning rates of the four groups, EMA
/// momentum, teacher temperature, FSR weights and mask strategy of the golden 5-step run (train.*), at full
/// precision from the metadata <c>train_scalars_float64</c>, with the schedule built from the file's own config.
/// </summary>
[Trait("Category", "Golden")]
public sealed class ScheduleGoldenTests(ITestOutputHelper output)
{
    // Same formulas, possibly another rounding order than numpy's: a few ulps.
    const double Rel = 1e-13;

    static void Close(string name, double expected, double actual, ref double worst)
    {
        double d = Math.Abs(expected - actual);
        worst = Math.Max(worst, d);
        Assert.True(d <= Rel * Math.Abs(expected) + 1e-300,
            $"{name}: golden {ScheduleGoldenConfig.Show(expected)}, ours {ScheduleGoldenConfig.Show(actual)}, |Δ| {d:E2}");
    }

    [GoldenFact]
    public void Schedule_matches_the_reference_run_step_by_step()
    {
        var g = GoldenFile.Shared;
        var schedule = new TrainingSchedule(ScheduleGoldenConfig.From(g.Config));
        var its = ScheduleGoldenConfig.Iterations(g.Config);
        var scalars = g.MetadataJson("train_scalars_float64");
        double[] Series(string key) => scalars.GetProperty(key).EnumerateArray().Select(x => x.GetDouble()).ToArray();
        var lr = scalars.GetProperty("train.lr").EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetDouble()).ToArray()).ToArray();
        var momentum = Series("train.momentum");
        var temp = Series("train.teacher_temp");
        var wClass = Series("train.w_class");
        var wPatch = Series("train.w_patch");
        var uncertain = Series("train.uncertain_strategy");
        Assert.Equal(its.Length, lr.Length);

        double worstLr = 0, worstM = 0, worstT = 0, worstW = 0;
        for (int i = 0; i < its.Length; i++)
        {
            var v = schedule.At(its[i]);
            Assert.Equal(lr[i].Length, v.GroupLr.Count);
            for (int k = 0; k < lr[i].Length; k++) Close($"train.lr[{i}][{k}] (iteration {its[i]})", lr[i][k], v.GroupLr[k], ref worstLr);
            Close($"train.momentum[{i}]", momentum[i], v.Momentum, ref worstM);
            Close($"train.teacher_temp[{i}]", temp[i], v.TeacherTemperature, ref worstT);
            Close($"train.w_class[{i}]", wClass[i], v.Weights.FsrClass, ref worstW);
            Close($"train.w_patch[{i}]", wPatch[i], v.Weights.FsrPatch, ref worstW);
            Assert.Equal(uncertain[i] == 1.0 ? MaskStrategy.Uncertain : MaskStrategy.Random, v.MaskStrategy);
        }
        output.WriteLine($"worst |Δ| over {its.Length} steps: lr {worstLr:E2}, momentum {worstM:E2}, teacher temp {worstT:E2}, w_class/w_patch {worstW:E2}");

        // The stored float32 tensors are these values rounded.
        GoldenAssert.Close("train.lr", g.Floats("train.lr"), its.SelectMany(it => schedule.GroupLr(it).Select(x => (float)x)).ToArray(), 0, 0);
        GoldenAssert.Close("train.momentum", g.Floats("train.momentum"), its.Select(it => (float)schedule.MomentumAt(it)).ToArray(), 0, 0);
        GoldenAssert.Close("train.teacher_temp", g.Floats("train.teacher_temp"), its.Select(it => (float)schedule.TeacherTemperatureAt(it)).ToArray(), 0, 0);
    }

    [GoldenFact]
    public void Config_from_the_golden_metadata_keeps_every_reference_argument()
    {
        var g = GoldenFile.Shared;
        var c = ScheduleGoldenConfig.From(g.Config);
        Assert.Equal(g.Config.GetProperty("max_iters").GetInt64(), c.Optim.MaxIters);
        Assert.Equal(g.Config.GetProperty("warmup_iters").GetInt64(), c.Optim.WarmupIters);
        Assert.Equal(g.Config.GetProperty("momentum").GetDouble(), c.Fsr.Momentum);
        Assert.Equal(g.Config.GetProperty("lr").GetDouble(), c.Optim.Lr);
        Assert.Equal(g.Config.GetProperty("cam_scales").EnumerateArray().Select(x => x.GetDouble()), c.Cam.CamScales);
        Assert.Equal(g.Config.GetProperty("max_iters").GetInt64() / 5, c.Mask.RandomIters);
        Assert.Equal(g.Config.GetProperty("max_iters").GetInt64() / 8, c.Fsr.TeacherTempWarmupIters);
        Assert.Equal(JsonValueKind.Object, g.Config.ValueKind);
    }
}
