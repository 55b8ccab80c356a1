using System.Globalization;
using FsrNative.Data.Loading;
using FsrNative.Data.Transforms;
using FsrNative.Fsr.Training;
using FsrNative.Optim;
using Xunit.Abstractions;

namespace FsrNative.Tests.Golden;

/// <summary>
/// Shared set-up of the training-step golden tests: the configuration from the file's metadata, the step with the stored
/// initial weights, the stored views as a batch, and the README §7 comparisons with worst-|Δ| reports.
/// </summary>
static class TrainingStepGolden
{
    public const double LossRel = 1e-5, RegAbs = 1e-7;

    public static FsrConfig Config(GoldenFile g) => ScheduleGoldenConfig.From(g.Config);

    /// <summary>The step of the golden configuration with init.student/init.teacher loaded strictly and a trace kept.</summary>
    public static FsrTrainingStep Step(GoldenFile g, FsrConfig config)
    {
        var step = new FsrTrainingStep(config, Device.CPU) { KeepTrace = true };
        using var scope = torch.NewDisposeScope();
        step.Student.load_state_dict(g.WithPrefix("init.student."), strict: true);
        step.Teacher.load_state_dict(g.WithPrefix("init.teacher."), strict: true);
        return step;
    }

    /// <summary>The stored views and multi-hot labels (Float32, as the loader gives them) as a loader batch.</summary>
    public static Batch Batch(GoldenFile g)
    {
        var labels = g.Tensor("input.cls_labels");
        var floatLabels = labels.to(DType.Float32);
        labels.Dispose();
        int b = floatLabels.size(0);
        return new Batch
        {
            Views = [g.Tensor("input.view1"), g.Tensor("input.view2")], Labels = floatLabels,
            Ids = Enumerable.Range(0, b).Select(i => $"golden{i}").ToArray(), Indices = Enumerable.Range(0, b).ToArray(),
            Epoch = 0, Position = 0, Params = Enumerable.Range(0, b).Select(_ => new AugmentParams?[2]).ToArray(),
        };
    }

    public static StepContext Context(TrainingSchedule schedule, long iteration, FsrConfig config) => new()
    {
        Schedule = schedule.At(iteration), MicroBatch = 0, MicroBatches = 1, Generator = new Generator(config.Run.Seed), Config = config, Device = Device.CPU,
    };

    /// <summary>
    /// The golden 5-iteration run (README §4.3) driven as the Trainer drives a step: iterations start_iter … start_iter + 4
    /// on the stored views with the stored draws train.noise replayed; per iteration the four groups' lr from the
    /// schedule, zero_grad, Step, backward, gradient norm, the trainer's AdamW (FsrParamGroups.CreateOptimizer) step and
    /// the teacher EMA. <paramref name="check"/>(i, trace) runs after iteration i, inside its dispose scope. Returns the
    /// step after the last iteration (the caller disposes it) for the final-weight checks.
    /// </summary>
    public static FsrTrainingStep RunIterations(GoldenFile g, FsrConfig config, Action<int, FsrStepTrace> check)
    {
        var step = Step(g, config);
        var schedule = new TrainingSchedule(config);
        using var optimizer = FsrParamGroups.CreateOptimizer(step.Parameters, schedule, config.Optim);
        var trainable = optimizer.param_groups.SelectMany(p => p.Parameters).Where(p => p.requires_grad).ToList();
        long[] iterations = ScheduleGoldenConfig.Iterations(g.Config);
        using var allNoise = g.Tensor("train.noise");
        using var batch = Batch(g);
        for (int i = 0; i < iterations.Length; i++)
        {
            using var scope = torch.NewDisposeScope();
            var ctx = Context(schedule, iterations[i], config);
            for (int k = 0; k < optimizer.param_groups.Count; k++) optimizer.param_groups[k].lr = ctx.Schedule.GroupLr[k];
            optimizer.zero_grad();
            var noise = allNoise.select(0, i).contiguous();
            step.MaskNoise = _ => noise;
            var result = step.Step(batch, ctx);
            result.Loss.backward();
            GradClip.clip_grad_norm_(trainable, double.PositiveInfinity);
            optimizer.step();
            step.AfterOptimizerStep(ctx);
            check(i, step.LastTrace!);
        }
        return step;
    }

    /// <summary>A loss value against its reference: relative 1e-5 (loss.reg absolute 1e-7). Returns |Δ|.</summary>
    public static double Loss(ITestOutputHelper output, string name, double reference, double ours)
    {
        double d = Math.Abs(reference - ours);
        bool reg = name.EndsWith("reg", StringComparison.Ordinal);
        double tol = reg ? RegAbs : LossRel * Math.Abs(reference);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: ours {ours:R}, reference {reference:R}, |Δ| {d:E2} (tolerance {tol:E1})"));
        Assert.True(d <= tol, $"{name}: ours {ours:R}, reference {reference:R}, |Δ| {d:E2} > {tol:E1}");
        return d;
    }

    /// <summary>The entries of the middle third ([D:2D]) of an attention key bias: encoder.blocks.*.attn.qkv.bias has
    /// [q; k; v], encoder.cls_blocks.*.attn.k.bias is the key bias alone (all of it). Their true gradient is 0 (softmax
    /// is invariant to a per-query shift), so the stored values are float32 noise (README §7).</summary>
    public static (int start, int count)? KeyBiasRange(string name, int length)
    {
        if (name.StartsWith("encoder.blocks.", StringComparison.Ordinal) && name.EndsWith(".attn.qkv.bias", StringComparison.Ordinal)) return (length / 3, length / 3);
        if (name.StartsWith("encoder.cls_blocks.", StringComparison.Ordinal) && name.EndsWith(".attn.k.bias", StringComparison.Ordinal)) return (0, length);
        return null;
    }

    /// <summary>max|Δ| of <paramref name="ours"/> vs <paramref name="reference"/> over [start, start + count) (all when null).</summary>
    public static (double maxDiff, double maxRef) Diff(float[] reference, float[] ours, (int start, int count)? range = null, bool outside = false)
    {
        Assert.Equal(reference.Length, ours.Length);
        double d = 0, r = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            bool inRange = range is not { } rg || (i >= rg.start && i < rg.start + rg.count);
            if (inRange == outside && range is not null) continue;
            d = Math.Max(d, Math.Abs((double)reference[i] - ours[i]));
            r = Math.Max(r, Math.Abs(reference[i]));
        }
        return (d, r);
    }

    /// <summary>Group of a parameter for the agreement report (encoder blocks, aggregation, projector, decoder, classifiers, …).</summary>
    public static string GroupOf(string name) => name switch
    {
        _ when name.StartsWith("encoder.cls_blocks.", StringComparison.Ordinal) => "encoder.cls_blocks",
        _ when name.StartsWith("encoder.blocks.", StringComparison.Ordinal) => "encoder.blocks",
        _ when name.StartsWith("encoder.", StringComparison.Ordinal) => "encoder.other",
        _ => name.Split('.')[0],
    };
}
