using System.Globalization;
using FsrNative.Fsr.Training;
using Xunit.Abstractions;

namespace FsrNative.Tests.Golden;

/// <summary>
/// The golden training step and 5-iteration run of <see cref="TrainingStepGoldenTests"/> with
/// <c>optim.mixed_precision = bf16</c> (torch.autocast around the network passes), against the same float32 reference.
/// The README §7 tolerances are float32 ones and do not hold; these are the bf16 ones (docs/training.md "Mixed
/// precision"), each about 3× the worst value measured on fsr-tiny (in brackets), checked and reported:
/// <list type="bullet">
/// <item>discrete outputs (view-2 masks, PAR pseudo labels): at most <see cref="DiscreteFraction"/> of the entries differ
/// (a CAM value near a threshold flips) [masks 0; pseudo labels 70 of 18432 = 0.38 %, iteration 3];</item>
/// <item>loss terms, loss.reg included: relative <see cref="LossRel"/> [7.2e-3, fsr_cls at iteration 1; reg 5.9e-3];</item>
/// <item>step-0 gradients, max|Δ| ≤ rel·max|ref| per tensor: <see cref="GradRel"/> [1.9e-2, encoder.cls_blocks], the
/// decoder <see cref="DecoderGradRel"/> [1.3e-1, decoder.conv6.weight — not its own rounding: with conv2d left out of
/// autocast (an experiment) it stays 1.3e-1; the decoder's gradient comes from the seg/reg losses, whose PAR targets already
/// differ in one pixel at step 0 (most likely the cause, not isolated further)]; the attention key biases'
/// middle thirds (true gradient 0) absolute <see cref="KeyBiasAbs"/>, README §7's value [3.6e-10];</item>
/// <item>after 5 iterations, absolute: student weights <see cref="StudentAbs"/> [3.1e-3, decoder.conv7.weight — Adam's
/// normalised updates turn a changed gradient into a change of up to ~2·lr per step], teacher <see cref="TeacherAbs"/>
/// [5.8e-5], centres <see cref="CentreAbs"/> [class 4.5e-4, patch 2.8e-4].</item>
/// </list>
/// bfloat16 keeps 8 significant bits: each rounded operand is off by at most 2^−9 ≈ 2e-3 relative, a product of two by
/// about 4e-3; over dot products of many terms the independent errors partly cancel, but they compound through the
/// layers and the backward, and sums with heavy cancellation (weight gradients) lose the most.
/// </summary>
[Trait("Category", "Golden")]
public sealed class TrainingStepBf16GoldenTests(ITestOutputHelper output)
{
    const double DiscreteFraction = 0.01;
    const double LossRel = 2e-2;
    const double GradRel = 5e-2, DecoderGradRel = 4e-1, KeyBiasAbs = 1e-8;
    const double StudentAbs = 1e-2, TeacherAbs = 2e-4, CentreAbs = 1.5e-3;

    static FsrConfig Bf16Config(GoldenFile g)
    {
        var config = TrainingStepGolden.Config(g);
        config.Optim.MixedPrecision = "bf16";
        return config;
    }

    /// <summary>|Δ| of a loss term against the reference and whether it is within the bf16 tolerance (reported, not thrown).</summary>
    double Loss(string name, double reference, double ours, List<string> failures)
    {
        double d = Math.Abs(reference - ours);
        double tol = LossRel * Math.Abs(reference);
        double rel = reference != 0 ? d / Math.Abs(reference) : d;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: ours {ours:R}, reference {reference:R}, |Δ| {d:E2}, rel {rel:E2} (tolerance {tol:E1})"));
        if (!(d <= tol)) failures.Add($"{name}: |Δ| {d:E2} > {tol:E1}");
        return d;
    }

    int Discrete(string name, long[] reference, int[] ours, List<string> failures)
    {
        Assert.Equal(reference.Length, ours.Length);
        int differ = 0;
        for (int i = 0; i < ours.Length; i++) if (reference[i] != ours[i]) differ++;
        output.WriteLine($"{name}: {differ} of {ours.Length} entries differ");
        if (differ > DiscreteFraction * ours.Length) failures.Add($"{name}: {differ} of {ours.Length} entries differ (> {DiscreteFraction:P0})");
        return differ;
    }

    static int[] Ints(Tensor t) => t.DType == DType.Int32 ? t.ToIntArray() : t.ToArray().Select(x => (int)x).ToArray();

    [GoldenFact]
    public void Bf16_step_0_losses_and_every_gradient_within_the_bf16_tolerances()
    {
        var g = GoldenFile.Shared;
        var config = Bf16Config(g);
        using var step = TrainingStepGolden.Step(g, config);
        var schedule = new TrainingSchedule(config);
        long start = g.Config.GetProperty("start_iter").GetInt64();
        using var noise = g.Tensor("step0.mask.noise");
        step.MaskNoise = _ => noise;
        using var batch = TrainingStepGolden.Batch(g);
        using var scope = torch.NewDisposeScope();
        var failures = new List<string>();

        var result = step.Step(batch, TrainingStepGolden.Context(schedule, start, config));
        var trace = step.LastTrace!;
        Discrete("step0.mask.mask2", g.Longs("step0.mask.mask2"), Ints(trace.Mask2!), failures);
        Discrete("step0.cam.pseudo_label1", g.Longs("step0.cam.pseudo_label1"), Ints(trace.PseudoLabels!), failures);
        var reference = g.MetadataJson("loss_step0_float64_repr");
        foreach (var term in new[] { "top_cls", "aux_cls", "cls", "aff", "seg", "reg", "fsr_cls", "fsr_pat", "total" })
            Loss("step0.loss." + term, double.Parse(reference.GetProperty("loss." + term).GetString()!, CultureInfo.InvariantCulture), trace.Losses[term], failures);

        result.Loss.backward();
        var worst = new SortedDictionary<string, double>();
        double worstKeyBias = 0, worstAll = 0;
        string worstName = "";
        foreach (var (name, p) in step.Student.named_parameters())
        {
            if (!p.requires_grad) continue;
            var refGrad = g.Floats("step0.grad." + name);
            var ours = p.grad!.ToArray();
            var keyRange = TrainingStepGolden.KeyBiasRange(name, ours.Length);
            var (d, r) = TrainingStepGolden.Diff(refGrad, ours, keyRange, outside: true);
            if (keyRange is not null)
            {
                var (dk, _) = TrainingStepGolden.Diff(refGrad, ours, keyRange);
                worstKeyBias = Math.Max(worstKeyBias, dk);
                if (dk > KeyBiasAbs) failures.Add($"{name} key-bias entries: max|Δ| {dk:E2} > {KeyBiasAbs:E0}");
            }
            double rel = r > 0 ? d / r : d;
            string group = TrainingStepGolden.GroupOf(name);
            worst[group] = Math.Max(worst.GetValueOrDefault(group), rel);
            if (rel > worstAll) { worstAll = rel; worstName = name; }
            double tol = group == "decoder" ? DecoderGradRel : GradRel;
            if (d > tol * r && r > 0) failures.Add($"{name}: max|Δ| {d:E2} > {tol:E0}·max|ref| ({r:E2})");
        }
        foreach (var (group, rel) in worst) output.WriteLine($"bf16 grad {group}: worst max|Δ|/max|ref| = {rel:E2}");
        output.WriteLine($"bf16 grad: worst overall {worstAll:E2} ({worstName}); key-bias middle thirds worst max|Δ| = {worstKeyBias:E2}");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [GoldenFact]
    public void Bf16_five_iterations_within_the_bf16_tolerances()
    {
        var g = GoldenFile.Shared;
        var config = Bf16Config(g);
        config.Optim.LegacyFirstMoment = true;
        long[] iterations = ScheduleGoldenConfig.Iterations(g.Config);
        var scalars = g.MetadataJson("train_scalars_float64");
        var mask2 = g.Longs("train.mask2");
        var labels = g.Longs("train.pseudo_label1");
        int maskSize = mask2.Length / iterations.Length, labelSize = labels.Length / iterations.Length;
        var worstLoss = new SortedDictionary<string, double>();
        var failures = new List<string>();

        using var step = TrainingStepGolden.RunIterations(g, config, (i, trace) =>
        {
            Discrete($"train.mask2[{i}]", mask2.AsSpan(i * maskSize, maskSize).ToArray(), Ints(trace.Mask2!), failures);
            Discrete($"train.pseudo_label1[{i}]", labels.AsSpan(i * labelSize, labelSize).ToArray(), Ints(trace.PseudoLabels!), failures);
            foreach (var term in new[] { "top_cls", "aux_cls", "cls", "aff", "seg", "reg", "fsr_cls", "fsr_pat", "total" })
            {
                double d = Loss($"train.loss.{term}[{i}]", scalars.GetProperty("train.loss." + term)[i].GetDouble(), trace.Losses[term], failures);
                worstLoss[term] = Math.Max(worstLoss.GetValueOrDefault(term), d);
            }
        });
        foreach (var (term, d) in worstLoss) output.WriteLine($"bf16 train.loss.{term}: worst |Δ| {d:E2}");

        double worstStudent = 0, worstTeacher = 0;
        var teacherParams = step.Teacher.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in step.Student.named_parameters())
        {
            var (d, _) = TrainingStepGolden.Diff(g.Floats("final.student." + name), p.ToArray());
            worstStudent = Math.Max(worstStudent, d);
            if (d > StudentAbs) failures.Add($"final.student.{name}: max|Δ| {d:E2} > {StudentAbs:E0}");
            var (dt, _) = TrainingStepGolden.Diff(g.Floats("final.teacher." + name), teacherParams[name].ToArray());
            worstTeacher = Math.Max(worstTeacher, dt);
            if (dt > TeacherAbs) failures.Add($"final.teacher.{name}: max|Δ| {dt:E2} > {TeacherAbs:E0}");
        }
        var (dc, _) = TrainingStepGolden.Diff(g.Floats("final.class_center"), step.FsrLoss.ClassCenter.ToArray());
        var (dp, _) = TrainingStepGolden.Diff(g.Floats("final.patch_center"), step.FsrLoss.PatchCenter.ToArray());
        output.WriteLine($"bf16 final.student: worst max|Δ| {worstStudent:E2}; final.teacher: {worstTeacher:E2}; centres: class {dc:E2}, patch {dp:E2}");
        if (dc > CentreAbs) failures.Add($"final.class_center: max|Δ| {dc:E2} > {CentreAbs:E0}");
        if (dp > CentreAbs) failures.Add($"final.patch_center: max|Δ| {dp:E2} > {CentreAbs:E0}");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
