using FsrNative.Model;
using Xunit;

namespace FsrNative.Tests.Golden;

/// <summary>
/// Inference (fsr-spec §8.1) with the student after the 5 training steps (<c>final.student.*</c>) on the non-square
/// <c>input.infer_image</c>, against every <c>infer.*</c> tensor (golden README §4.4).
/// </summary>
[Trait("Category", "Golden")]
public sealed class ModelGoldenInferenceTests
{
    [GoldenFact]
    public void Multi_scale_flip_inference_matches_infer()
    {
        var g = GoldenFile.Shared;
        using var net = ModelGolden.Network(g, "final.student.");
        using var scope = torch.NewDisposeScope();
        var p = SegmentationInference.Predict(net, g.Tensor("input.infer_image"), ModelGolden.Scales(g, "infer_scales"));
        Assert.True(net.training, "Predict gives the network back in its previous (training) mode");
        for (int i = 0; i < p.raw_seg_out.Count; i++)
        {
            ModelGolden.Close(g, $"infer.scale{i}.raw_seg_out", p.raw_seg_out[i]);
            ModelGolden.Close(g, $"infer.scale{i}.flip_sum", p.flip_sum[i]);
        }
        ModelGolden.Close(g, "infer.seg_logits", p.seg_logits);
        GoldenAssert.Equal(g, "infer.pred", p.pred);
        GoldenAssert.Close(g, "infer.cam", p.cam, 0, ModelGolden.CamAbs);
    }
}
