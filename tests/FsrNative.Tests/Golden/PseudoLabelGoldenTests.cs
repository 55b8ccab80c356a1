using FsrNative.Fsr.PseudoLabels;
using Xunit.Abstractions;

namespace FsrNative.Tests.Golden;

/// <summary>
/// PAR pseudo labels (fsr-spec §3.6) against the authors' code (golden README §4.2), fed the stored stage inputs
/// (README §6 "To isolate stages": <c>cam.images_denorm1</c>, <c>cam.valid_cam1</c>), so they do not depend on the model:
/// the de-normalisation of view 1 (exact), y ⊙ CAM (exact), every per-image PAR intermediate of both background levels
/// (README §7 tolerances) and the label maps (exact).
/// </summary>
[Trait("Category", "Golden")]
public sealed class PseudoLabelGoldenTests(ITestOutputHelper output)
{
    const string P = "step0.";

    [GoldenFact]
    public void Denormalised_view_for_PAR_is_exact()
    {
        var g = GoldenFile.Shared;
        using var scope = torch.NewDisposeScope();
        var ours = ImageDenormalization.ToUnitBytes(g.Tensor("input.view1"));
        GoldenReport.Close(output, g, P + "cam.images_denorm1", ours, 0, 0);
    }

    [GoldenFact]
    public void Class_masked_cam_is_exact()
    {
        var g = GoldenFile.Shared;
        using var scope = torch.NewDisposeScope();
        var ours = CamLabels.ValidCam(g.Tensor(P + "cam.cam_view1"), g.Tensor("input.cls_labels"));
        GoldenReport.Close(output, g, P + "cam.valid_cam1", ours, 0, 0);
    }

    [GoldenFact]
    public void Par_pseudo_labels_and_every_intermediate()
    {
        var g = GoldenFile.Shared;
        using var scope = torch.NewDisposeScope();
        var options = new ParLabelOptions
        {
            High = GoldenReport.ConfigFloat(g, "high_thre"),
            Low = GoldenReport.ConfigFloat(g, "low_thre"),
            IgnoreIndex = GoldenReport.ConfigInt(g, "ignore_index"),
        };
        var r = ParPseudoLabels.RefineDetailed(g.Tensor(P + "cam.images_denorm1"), g.Tensor(P + "cam.valid_cam1"), g.Tensor("input.cls_labels"), options);
        int batch = r.Labels.size(0);
        string[] levels = ["high", "low"];
        for (int b = 0; b < batch; b++)
        {
            string img = $"{P}par.img{b}.";
            var keys = r.ValidKeys[b];
            GoldenAssert.Equal(g, img + "high.valid_key", keys.Select(k => (long)k).ToArray());
            GoldenAssert.Equal(g, img + "low.valid_key", keys.Select(k => (long)k).ToArray());
            for (int l = 0; l < 2; l++)
            {
                string at = img + levels[l] + ".";
                GoldenReport.Close(output, g, at + "in_image", r.Images.narrow(0, b, 1), 1e-5, 1e-6);
                GoldenReport.Close(output, g, at + "in_prob", r.InProb.select(0, b).select(0, l).narrow(0, 0, keys.Length).unsqueeze(0), 1e-5, 1e-6);
                GoldenReport.Close(output, g, at + "out_prob", r.OutProb.select(0, b).select(0, l).narrow(0, 0, keys.Length).unsqueeze(0), 1e-5, 1e-6);
                GoldenReport.Equal(output, g, at + "label", r.LevelLabels.select(0, b).select(0, l).unsqueeze(0));
            }
        }
        GoldenReport.Equal(output, g, P + "cam.pseudo_label1", r.Labels);
    }

    /// <summary>The whole chain from the normalised view and the multi-scale CAM (what the trainer calls).</summary>
    [GoldenFact]
    public void Par_pseudo_labels_from_the_view()
    {
        var g = GoldenFile.Shared;
        using var scope = torch.NewDisposeScope();
        var labels = g.Tensor("input.cls_labels");
        var images = ImageDenormalization.ToUnitBytes(g.Tensor("input.view1"));
        var valid = CamLabels.ValidCam(g.Tensor(P + "cam.cam_view1"), labels);
        var ours = ParPseudoLabels.Refine(images, valid, labels, new ParLabelOptions
        {
            High = GoldenReport.ConfigFloat(g, "high_thre"),
            Low = GoldenReport.ConfigFloat(g, "low_thre"),
        });
        GoldenReport.Equal(output, g, P + "cam.pseudo_label1", ours);
    }
}
