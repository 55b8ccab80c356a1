using System.Globalization;
using FsrNative.Crf;
using FsrNative.Fsr.Losses;
using FsrNative.Fsr.PseudoLabels;
using FsrNative.Fsr.Training;
using Xunit.Abstractions;

namespace FsrNative.Tests.Golden;

/// <summary>
/// Every loss term of step 0 (fsr-spec §6) against the authors' code (golden README §4.2), each fed its stored stage
/// inputs (classifier logits, feature map, upsampled decoder logits, pseudo labels, projector outputs, mask), so the
/// model is not involved; plus the loss schedule (teacher temperature, w_class, w_patch) over the stored training steps.
/// Tolerances: README §7 (losses relative 1e-5, loss.reg absolute 1e-7, activations 1e-5·max|ref| + 1e-6, labels exact).
/// </summary>
[Trait("Category", "Golden")]
public sealed class LossGoldenTests(ITestOutputHelper output)
{
    const string P = "step0.";
    const double LossRel = 1e-5;

    static GoldenFile G => GoldenFile.Shared;

    /// <summary>The schedule of the golden run, built from the file's config (ScheduleGoldenConfig).</summary>
    static TrainingSchedule Schedule(GoldenFile g) => new(ScheduleGoldenConfig.From(g.Config));

    static long StartIter(GoldenFile g) => g.Config.GetProperty("start_iter").GetInt64();

    void Loss(string name, Tensor ours) => GoldenReport.Close(output, G, P + name, ours.reshape(1), LossRel, 0);

    [GoldenFact]
    public void Classification()
    {
        using var scope = torch.NewDisposeScope();
        var t = ClassificationLoss.Compute(G.Tensor(P + "S.out.top_cls_out"), G.Tensor(P + "S.out.aux_cls_out"), G.Tensor("input.cls_labels"));
        Loss("loss.top_cls", t.Top);
        Loss("loss.aux_cls", t.Aux);
        Loss("loss.cls", t.Total);
    }

    [GoldenFact]
    public void Patch_token_contrast_labels_mask_and_loss()
    {
        var g = G;
        using var scope = torch.NewDisposeScope();
        var fmap = g.Tensor(P + "S.out.top_fmap");
        int gh = fmap.size(2), gw = fmap.size(3);
        var auxCam = g.Tensor(P + "cam.aux_cam_view1");
        GoldenReport.Close(output, g, P + "aff.resized_aux_cam", PatchTokenContrast.ResizeCam(auxCam, gh, gw), 0, 2e-5);
        var labels = PatchTokenContrast.TokenLabels(auxCam, g.Tensor("input.cls_labels"), gh, gw,
            GoldenReport.ConfigFloat(g, "high_thre"), GoldenReport.ConfigFloat(g, "low_thre"), GoldenReport.ConfigInt(g, "ignore_index"));
        GoldenReport.Equal(output, g, P + "aff.pseudo_label_aux", labels);
        // The mask from the stored labels (stage isolation), then the loss from the stored mask.
        var mask = PatchTokenContrast.AffinityMask(g.Tensor(P + "aff.pseudo_label_aux"), GoldenReport.ConfigInt(g, "ignore_index"));
        GoldenReport.Equal(output, g, P + "aff.aff_mask", mask);
        Loss("loss.aff", PatchTokenContrast.Loss(fmap, g.Tensor(P + "aff.aff_mask")));
    }

    [GoldenFact]
    public void Segmentation()
    {
        var g = G;
        using var scope = torch.NewDisposeScope();
        var labels = g.Tensor(P + "cam.pseudo_label1");
        var up = SegmentationLoss.UpsampleLogits(g.Tensor(P + "S.out.seg_out"), labels.size(1), labels.size(2));
        GoldenReport.Close(output, g, P + "seg.seg_pred", up, 1e-5, 1e-6);
        Loss("loss.seg", SegmentationLoss.Balanced(g.Tensor(P + "seg.seg_pred"), labels, GoldenReport.ConfigInt(g, "ignore_index")));
    }

    [GoldenFact]
    public void Dense_energy_inputs_filter_and_loss()
    {
        var g = G;
        using var scope = torch.NewDisposeScope();
        var o = DenseEnergyOptions.Default;
        double[] factor = [o.Scale];
        // Stage inputs: the view in 0..255 (float, nearest ×0.5) and softmax(seg_pred) (bilinear ×0.5).
        var pixels = ImageDenormalization.ToPixels(g.Tensor("input.view1"));
        var smallPixels = torch.nn.functional.interpolate(pixels, scale_factor: factor, mode: "nearest", recompute_scale_factor: true);
        GoldenReport.Close(output, g, P + "reg.filter_in_image", smallPixels, 1e-5, 1e-6);
        var segPred = g.Tensor(P + "seg.seg_pred");
        var probs = torch.nn.functional.interpolate(segPred.softmax(1), scale_factor: factor, mode: "bilinear", align_corners: false, recompute_scale_factor: true);
        GoldenReport.Close(output, g, P + "reg.filter_in_prob", probs, 1e-5, 1e-6);
        // The permutohedral filter on the stored inputs (README §7: relative 1e-5 for the same lattice).
        var filtered = Bilateral.Filter(g.Tensor(P + "reg.filter_in_image"), g.Tensor(P + "reg.filter_in_prob"), o.SigmaXy * o.Scale, o.SigmaRgb);
        GoldenReport.Close(output, g, P + "reg.filter_out", filtered, 1e-5, 0);
        // The loss from the normalised view, the logits and the pseudo labels (absolute 1e-7), also against the
        // float64 value of the metadata.
        var loss = DenseEnergyRegularizer.Loss(g.Tensor("input.view1"), segPred, g.Tensor(P + "cam.pseudo_label1"), o);
        GoldenReport.Close(output, g, P + "loss.reg", loss.reshape(1), 0, 1e-7);
        double reference = double.Parse(g.MetadataJson("loss_step0_float64_repr").GetProperty("loss.reg").GetString()!, CultureInfo.InvariantCulture);
        output.WriteLine($"loss.reg: ours {loss.item():R}, reference (float64) {reference:R}, |Δ| = {Math.Abs(loss.item() - reference):E2}");
        Assert.True(Math.Abs(loss.item() - reference) <= 1e-7, $"loss.reg {loss.item():R} vs float64 reference {reference:R}");
    }

    [GoldenFact]
    public void Fsr_losses_and_centre_updates()
    {
        var g = G;
        using var scope = torch.NewDisposeScope();
        var teacher = g.Tensor(P + "T.out.project_out");
        using var fsr = new FeatureSelfReinforcementLoss(g.Config.GetProperty("out_dim").GetInt32());
        fsr.load_state_dict(new Dictionary<string, Tensor>
        {
            ["class_center"] = g.Tensor(P + "fsr.class_center_before"),
            ["patch_center"] = g.Tensor(P + "fsr.patch_center_before"),
        });
        float temperature = (float)Schedule(g).TeacherTemperatureAt(StartIter(g));
        var terms = fsr.Forward(teacher, g.Tensor(P + "S.out.project_out"), g.Tensor(P + "mask.mask2"), temperature);
        Loss("loss.fsr_cls", terms.ClassToken);
        Loss("loss.fsr_pat", terms.Patch);
        GoldenReport.Close(output, g, P + "fsr.class_center_after", fsr.ClassCenter, 1e-5, 1e-6);
        GoldenReport.Close(output, g, P + "fsr.patch_center_after", fsr.PatchCenter, 1e-5, 1e-6);
    }

    [GoldenFact]
    public void Centres_start_at_zero()
    {
        var g = G;
        using var fsr = new FeatureSelfReinforcementLoss(g.Config.GetProperty("out_dim").GetInt32());
        GoldenReport.Close(output, g, P + "fsr.class_center_before", fsr.ClassCenter, 0, 0);
        GoldenReport.Close(output, g, P + "fsr.patch_center_before", fsr.PatchCenter, 0, 0);
    }

    [GoldenFact]
    public void Total_from_the_terms()
    {
        var g = G;
        using var scope = torch.NewDisposeScope();
        var terms = new LossTerms
        {
            TopCls = g.Tensor(P + "loss.top_cls"),
            AuxCls = g.Tensor(P + "loss.aux_cls"),
            FsrClass = g.Tensor(P + "loss.fsr_cls"),
            FsrPatch = g.Tensor(P + "loss.fsr_pat"),
            Aff = g.Tensor(P + "loss.aff"),
            Seg = g.Tensor(P + "loss.seg"),
            Reg = g.Tensor(P + "loss.reg"),
        };
        var total = LossTotal.Compute(terms, Schedule(g).WeightsAt(StartIter(g)));
        Loss("loss.total", total);
        double reference = double.Parse(g.MetadataJson("loss_step0_float64_repr").GetProperty("loss.total").GetString()!, CultureInfo.InvariantCulture);
        output.WriteLine($"loss.total: ours {total.item():R}, reference (float64) {reference:R}");
        Assert.True(Math.Abs(total.item() - reference) <= LossRel * Math.Abs(reference), $"loss.total {total.item():R} vs float64 reference {reference:R}");
    }

    [GoldenFact]
    public void Schedule_over_the_training_steps()
    {
        var g = G;
        var schedule = Schedule(g);
        var scalars = g.MetadataJson("train_scalars_float64");
        var temperature = scalars.GetProperty("train.teacher_temp").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var wClass = scalars.GetProperty("train.w_class").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var wPatch = scalars.GetProperty("train.w_patch").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        long start = StartIter(g);
        for (int s = 0; s < temperature.Length; s++)
        {
            long it = start + s;
            Assert.True(Math.Abs(schedule.TeacherTemperatureAt(it) - temperature[s]) <= 1e-15, $"teacher temperature at it {it}: {schedule.TeacherTemperatureAt(it):R} vs {temperature[s]:R}");
            Assert.Equal(wClass[s], schedule.WeightsAt(it).FsrClass);
            Assert.Equal(wPatch[s], schedule.WeightsAt(it).FsrPatch);
        }
        output.WriteLine($"{temperature.Length} steps from it {start}: τ_t, w_class, w_patch agree");
    }
}
