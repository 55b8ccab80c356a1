using FsrNative.Data.Loading;
using FsrNative.Data.Transforms;
using FsrNative.Fsr.Training;
using FsrNative.Model;
using FsrNative.Optim;
using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Training;

/// <summary>
/// <see cref="FsrTrainingStep"/> beyond the golden file: terms switched off by the schedule are not computed (and their
/// inputs not made), the centres travel in the "fsr_loss" module's state dict, memory stays flat over iterations (no
/// tensor outlives its step), and the trainer runs the real step end to end with a checkpoint that resumes.
/// </summary>
[Trait(Categories.Trait, TrainingCategory.Name)]
public class FsrTrainingStepTests
{
    /// <summary>The trainer fixture at 64 px (2×2 mask blocks of 32 px, 2 masked), every term on from the first step.</summary>
    internal static FsrConfig Config(long steps = 4, params (string, string)[] extra)
        => TrainingFixture.Config(TrainingFixture.NewOutFolder(), steps,
            [("data.input_size", "64"), ("losses.seg_start", "0"), ("mask.random_iters", "0"), ("cam.par_iters", "2"),
              ("model.drop_path_rate", "0"), .. extra]);   // the golden-style checks here compare runs without drop-path

    internal static Batch RandomBatch(FsrConfig c, int seed)
    {
        var g = new Generator((ulong)seed);
        int b = c.Data.BatchSize, s = c.Data.InputSize, classes = c.Data.NumClasses - 1;
        var labels = torch.rand([b, classes], g).gt(0.5f);
        labels.select(1, 0).fill_(1f);   // at least one class per image
        return new Batch
        {
            Views = [torch.randn([b, 3, s, s], g).DetachFromDisposeScope(), torch.randn([b, 3, s, s], g).DetachFromDisposeScope()],
            Labels = labels.DetachFromDisposeScope(), Ids = ["a", "b"], Indices = [0, 1], Epoch = 0, Position = 0,
            Params = [new AugmentParams?[2], new AugmentParams?[2]],
        };
    }

    internal static StepContext Context(FsrConfig c, long iteration, Generator g)
        => new() { Schedule = new TrainingSchedule(c).At(iteration), MicroBatch = 0, MicroBatches = 1, Generator = g, Config = c, Device = Device.CPU };

    [Fact]
    public void Every_term_is_computed_when_all_weights_are_on()
    {
        var c = Config();
        using var step = new FsrTrainingStep(c, Device.CPU) { KeepTrace = true };
        using var batch = RandomBatch(c, 1);
        using var scope = torch.NewDisposeScope();
        var r = step.Step(batch, Context(c, 0, new Generator(3)));
        Assert.Equal(["aff", "cls", "fsr_cls", "fsr_pat", "reg", "seg"], r.Terms.Keys.Order());
        Assert.True(r.Terms.Values.All(double.IsFinite));
        Assert.Equal([2, 4, 4], step.LastTrace!.Mask2!.shape);
        Assert.Equal(2 * 2 * 4, (int)step.LastTrace.Mask2.sum().item());   // ⌈0.4·4⌉ = 2 blocks of 2×2 tokens per image
        Assert.NotNull(step.LastTrace.PseudoLabels);
        r.Loss.backward();
        Assert.NotNull(step.Student.encoder.mask_token.grad);                // FSR reaches the mask token
        Assert.Null(step.Teacher.encoder.mask_token.grad);
    }

    [Fact]
    public void Terms_with_weight_zero_are_skipped_with_their_inputs()
    {
        // Before seg_start: no seg/reg and no PAR; masking off: no mask, no unc.FSR; fsr weights 0: no teacher pass.
        var c = Config(4, ("losses.seg_start", "100"), ("mask.enabled", "false"), ("fsr.w_class", "0"), ("losses.w_aff", "0"));
        using var step = new FsrTrainingStep(c, Device.CPU) { KeepTrace = true, Timings = new PhaseTimes() };
        using var batch = RandomBatch(c, 2);
        using var scope = torch.NewDisposeScope();
        var r = step.Step(batch, Context(c, 0, new Generator(3)));
        Assert.Equal(["cls"], r.Terms.Keys);
        Assert.Null(step.LastTrace!.Mask2);
        Assert.Null(step.LastTrace.PseudoLabels);
        var phases = step.Timings!.Totals().Select(t => t.phase).ToList();
        Assert.DoesNotContain("cam", phases);
        Assert.DoesNotContain("teacher_forward", phases);
        Assert.DoesNotContain("pseudo_labels", phases);
        Assert.Equal(r.Terms["cls"], r.Loss.item(), 6);
    }

    [Fact]
    public void Centres_are_buffers_of_the_fsr_loss_module_and_the_teacher_follows_by_ema()
    {
        var c = Config();
        using var step = new FsrTrainingStep(c, Device.CPU);
        var state = step.Modules["fsr_loss"].state_dict();
        Assert.Equal(["class_center", "patch_center"], state.Keys.Order());
        Assert.Equal([1, c.Model.OutDim], state["class_center"].shape);
        using var batch = RandomBatch(c, 4);
        using (torch.NewDisposeScope())
        {
            var ctx = Context(c, 0, new Generator(5));
            step.Step(batch, ctx);
            Assert.True(step.FsrLoss.ClassCenter.abs().sum().item() > 0);    // updated by the step
            using (torch.no_grad()) step.Student.encoder.mask_token.add_(1f);
            step.AfterOptimizerStep(ctx);
        }
        double m = new TrainingSchedule(c).At(0).Momentum;
        var t = step.Teacher.encoder.mask_token.ToArray();
        var s = step.Student.encoder.mask_token.ToArray();
        // θ_t ← m·θ_t + (1 − m)·θ_s with θ_t = θ_s − 1 before: θ_t = θ_s − 1 + (1 − m).
        for (int i = 0; i < t.Length; i++) Assert.Equal(s[i] - 1 + (1 - m), t[i], 5);
    }

    [Fact]
    public void Trainer_runs_the_real_step_and_resumes_from_its_checkpoint()
    {
        var c = Config(3, ("run.checkpoint_interval", "2"), ("eval.interval", "0"));
        var run = RunFolder.Create(c);
        using (var step = new FsrTrainingStep(c, Device.CPU))
        using (var trainer = new Trainer(c, run, step, Device.CPU, new TrainerOptions { Output = TextWriter.Null, StopAfterStep = 2 }))
            Assert.Equal(TrainingStatus.Interrupted, trainer.Run().Status);
        var lines = File.ReadAllLines(run.MetricsPath).Where(l => l.Contains("\"event\":\"step\"")).ToList();
        Assert.Equal(2, lines.Count);
        Assert.All(["cls", "aff", "seg", "reg", "fsr_cls", "fsr_pat"], term => Assert.Contains($"\"{term}\":", lines[0]));
        using (var step = new FsrTrainingStep(c, Device.CPU))
        using (var trainer = new Trainer(c, run, step, Device.CPU, new TrainerOptions { Output = TextWriter.Null, Resume = true }))
        {
            var outcome = trainer.Run();
            Assert.Equal((TrainingStatus.Completed, 3L), (outcome.Status, outcome.Step));
            Assert.True(step.FsrLoss.ClassCenter.abs().sum().item() > 0);
        }
    }
}

/// <summary>The allocator's counters are process-wide: this test runs alone (the AllocatorCounters collection).</summary>
[Trait(Categories.Trait, TrainingCategory.Name)]
[Collection(nameof(FsrNative.Tests.Engine.AllocatorCounters))]
public class FsrTrainingStepMemoryTests
{
    [Fact]
    public void Memory_in_use_stays_flat_over_iterations()
    {
        var c = FsrTrainingStepTests.Config();
        using var step = new FsrTrainingStep(c, Device.CPU);
        var schedule = new TrainingSchedule(c);
        using var optimizer = FsrParamGroups.CreateOptimizer(step.Parameters, schedule, c.Optim);
        using var batch = FsrTrainingStepTests.RandomBatch(c, 6);
        var g = new Generator(7);
        var inUse = new List<long>();
        for (int it = 0; it < 5; it++)
        {
            using (torch.NewDisposeScope())
            {
                var ctx = FsrTrainingStepTests.Context(c, it, g);
                optimizer.zero_grad();
                step.Step(batch, ctx).Loss.backward();
                optimizer.step();
                step.AfterOptimizerStep(ctx);
            }
            optimizer.zero_grad();   // gradients are freed (set to none) between steps, as the trainer's next step does
            inUse.Add(CpuAllocator.Stats.BytesInUse);
        }
        // From the second iteration on (AdamW's moments exist) nothing accumulates.
        Assert.True(inUse.Skip(1).Distinct().Count() == 1, "bytes in use per iteration: " + string.Join(", ", inUse));
    }
}
