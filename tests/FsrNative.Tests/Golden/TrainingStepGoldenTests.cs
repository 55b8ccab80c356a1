using System.Globalization;
using FsrNative.Fsr.Training;
using Xunit.Abstractions;

namespace FsrNative.Tests.Golden;

/// <summary>
/// The whole FSR iteration (fsr-spec §4, <see cref="FsrTrainingStep"/>) against the authors' code (golden README §4.2):
/// step 0 from the stored initial weights and views with the stored mask draws replayed — the view-2 mask and the PAR
/// pseudo labels exactly, every loss term, the FSR centres after the step, and the gradient of the total with respect to
/// EVERY student parameter (README §7: 1e-4·max|ref| per tensor; the attention key biases' middle third, whose true
/// gradient is 0, absolute 1e-8). The configuration comes from the file's metadata.
/// </summary>
[Trait("Category", "Golden")]
public sealed class TrainingStepGoldenTests(ITestOutputHelper output)
{
    const double GradRel = 1e-4, KeyBiasAbs = 1e-8;

    [GoldenFact]
    public void Step_0_masks_labels_losses_centres_and_every_gradient_match()
    {
        var g = GoldenFile.Shared;
        var config = TrainingStepGolden.Config(g);
        using var step = TrainingStepGolden.Step(g, config);
        var schedule = new TrainingSchedule(config);
        long start = g.Config.GetProperty("start_iter").GetInt64();
        using var noise = g.Tensor("step0.mask.noise");
        step.MaskNoise = _ => noise;
        using var batch = TrainingStepGolden.Batch(g);
        using var scope = torch.NewDisposeScope();

        var result = step.Step(batch, TrainingStepGolden.Context(schedule, start, config));
        var trace = step.LastTrace!;
        GoldenReport.Equal(output, g, "step0.mask.mask2", trace.Mask2!);
        GoldenReport.Equal(output, g, "step0.cam.pseudo_label1", trace.PseudoLabels!);

        var reference = g.MetadataJson("loss_step0_float64_repr");
        foreach (var term in new[] { "top_cls", "aux_cls", "cls", "aff", "seg", "reg", "fsr_cls", "fsr_pat", "total" })
            TrainingStepGolden.Loss(output, "step0.loss." + term,
                double.Parse(reference.GetProperty("loss." + term).GetString()!, CultureInfo.InvariantCulture), trace.Losses[term]);
        Assert.Equal(trace.Losses["total"], result.Loss.item(), 6);
        GoldenReport.Close(output, g, "step0.fsr.class_center_after", step.FsrLoss.ClassCenter, 1e-5, 1e-6);
        GoldenReport.Close(output, g, "step0.fsr.patch_center_after", step.FsrLoss.PatchCenter, 1e-5, 1e-6);

        result.Loss.backward();
        var worst = new SortedDictionary<string, double>();   // group → worst max|Δ|/max|ref|
        double worstKeyBias = 0;
        int checkedCount = 0;
        var failures = new List<string>();
        foreach (var (name, p) in step.Student.named_parameters())
        {
            if (!p.requires_grad) { Assert.False(g.Contains("step0.grad." + name), $"{name} is frozen here but has a reference gradient"); continue; }
            var refGrad = g.Floats("step0.grad." + name);
            Assert.NotNull(p.grad);
            var ours = p.grad!.ToArray();
            var keyRange = TrainingStepGolden.KeyBiasRange(name, ours.Length);
            var (d, r) = TrainingStepGolden.Diff(refGrad, ours, keyRange, outside: true);
            if (keyRange is not null)
            {
                var (dk, _) = TrainingStepGolden.Diff(refGrad, ours, keyRange);
                worstKeyBias = Math.Max(worstKeyBias, dk);
                if (dk > KeyBiasAbs) failures.Add($"{name} key-bias entries: max|Δ| {dk:E2} > {KeyBiasAbs:E0}");
            }
            string group = TrainingStepGolden.GroupOf(name);
            worst[group] = Math.Max(worst.GetValueOrDefault(group), r > 0 ? d / r : d);
            if (d > GradRel * r + 1e-30 && r > 0) failures.Add($"{name}: max|Δ| {d:E2} > {GradRel:E0}·max|ref| ({r:E2})");
            checkedCount++;
        }
        foreach (var (group, rel) in worst) output.WriteLine($"grad {group}: worst max|Δ|/max|ref| = {rel:E2}");
        output.WriteLine($"grad key-bias middle thirds: worst max|Δ| = {worstKeyBias:E2}; {checkedCount} gradients checked");
        Assert.Equal(g.File.Entries.Count(e => e.Name.StartsWith("step0.grad.", StringComparison.Ordinal)), checkedCount);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>
    /// The golden 5-iteration run (README §4.3): iterations start_iter … start_iter + 4 on the same views with the
    /// stored draws train.noise replayed, driven as the Trainer drives a step (lr of the four groups from the schedule,
    /// zero_grad, Step, backward, gradient norm, AdamW step, teacher EMA) with the trainer's optimiser
    /// (FsrParamGroups.CreateOptimizer, optim.legacy_first_moment on: PyTorch 1.13's rounding). The schedule counter
    /// starts at start_iter, the Adam moments at zero (README §2). Checked: every loss term per iteration, the masks and
    /// pseudo labels exactly, the final student (abs 1e-5; key-bias entries 5e-6) and teacher (abs 1e-6) weights and
    /// the final centres.
    /// </summary>
    [GoldenFact]
    public void Five_iterations_match_losses_masks_labels_and_final_weights()
    {
        var g = GoldenFile.Shared;
        var config = TrainingStepGolden.Config(g);
        config.Optim.LegacyFirstMoment = true;
        long[] iterations = ScheduleGoldenConfig.Iterations(g.Config);
        var scalars = g.MetadataJson("train_scalars_float64");
        var mask2 = g.Longs("train.mask2");
        var labels = g.Longs("train.pseudo_label1");
        int maskSize = mask2.Length / iterations.Length, labelSize = labels.Length / iterations.Length;
        var worstLoss = new SortedDictionary<string, double>();

        using var step = TrainingStepGolden.RunIterations(g, config, (i, trace) =>
        {
            Assert.Equal(mask2.AsSpan(i * maskSize, maskSize).ToArray().Select(x => (int)x), trace.Mask2!.ToArray().Select(x => (int)x));
            Assert.Equal(labels.AsSpan(i * labelSize, labelSize).ToArray().Select(x => (int)x), trace.PseudoLabels!.ToIntArray());
            foreach (var term in new[] { "top_cls", "aux_cls", "cls", "aff", "seg", "reg", "fsr_cls", "fsr_pat", "total" })
            {
                double reference = scalars.GetProperty("train.loss." + term)[i].GetDouble();
                double d = TrainingStepGolden.Loss(output, $"train.loss.{term}[{i}]", reference, trace.Losses[term]);
                worstLoss[term] = Math.Max(worstLoss.GetValueOrDefault(term), d);
            }
        });
        output.WriteLine($"train.mask2, train.pseudo_label1: exact in all {iterations.Length} iterations");
        foreach (var (term, d) in worstLoss) output.WriteLine($"train.loss.{term}: worst |Δ| {d:E2}");

        var failures = new List<string>();
        double worstStudent = 0, worstStudentKey = 0, worstTeacher = 0;
        var teacherParams = step.Teacher.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in step.Student.named_parameters())
        {
            var keyRange = TrainingStepGolden.KeyBiasRange(name, (int)p.numel());
            var reference = g.Floats("final.student." + name);
            var ours = p.ToArray();
            var (d, _) = TrainingStepGolden.Diff(reference, ours, keyRange, outside: true);
            worstStudent = Math.Max(worstStudent, d);
            if (d > 1e-5) failures.Add($"final.student.{name}: max|Δ| {d:E2} > 1e-5");
            if (keyRange is not null)
            {
                var (dk, _) = TrainingStepGolden.Diff(reference, ours, keyRange);
                worstStudentKey = Math.Max(worstStudentKey, dk);
                if (dk > 5e-6) failures.Add($"final.student.{name} key-bias entries: max|Δ| {dk:E2} > 5e-6");
            }
            var (dt, _) = TrainingStepGolden.Diff(g.Floats("final.teacher." + name), teacherParams[name].ToArray());
            worstTeacher = Math.Max(worstTeacher, dt);
            if (dt > 1e-6) failures.Add($"final.teacher.{name}: max|Δ| {dt:E2} > 1e-6");
        }
        output.WriteLine($"final.student: worst max|Δ| {worstStudent:E2} (key-bias entries {worstStudentKey:E2}); final.teacher: worst max|Δ| {worstTeacher:E2}");
        GoldenReport.Close(output, g, "final.class_center", step.FsrLoss.ClassCenter, 1e-5, 1e-6);
        GoldenReport.Close(output, g, "final.patch_center", step.FsrLoss.PatchCenter, 1e-5, 1e-6);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
