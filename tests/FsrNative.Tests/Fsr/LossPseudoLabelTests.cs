using FsrNative.Crf;
using FsrNative.Fsr.PseudoLabels;
using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Fsr;

/// <summary>
/// The batched PAR pseudo labels (the segmentation loss's targets, fsr-spec §3.6) against the reference's loop written
/// with the same engine ops — one PAR call per image and background level over only that image's kept planes — on
/// random CAMs and images whose class counts differ (none, one, several), so the padding of the batched version is
/// exercised. Labels must agree exactly, probabilities bit for bit.
/// </summary>
public class LossPseudoLabelTests
{
    [Fact]
    public void Batched_refinement_equals_the_per_image_loop()
    {
        const int b = 3, c = 4, h = 22, w = 18;
        using var scope = torch.NewDisposeScope();
        var labels = torch.tensor(new float[] { 0, 0, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0 }, b, c);
        var cam = torch.tensor(TestRandom.Uniform(1, b * c * h * w, 0f, 1f), b, c, h, w);
        var valid = CamLabels.ValidCam(cam, labels);
        var images = torch.tensor(TestRandom.Uniform(2, b * 3 * h * w, 0f, 1f), b, 3, h, w);
        var options = new ParLabelOptions { Iterations = 4, Dilations = [1, 2, 3] };
        var r = ParPseudoLabels.RefineDetailed(images, valid, labels, options);

        var y = labels.ToArray();
        var expected = new List<int>();
        for (int i = 0; i < b; i++)
        {
            var keys = new List<int> { 0 };
            for (int k = 0; k < c; k++) if (y[i * c + k] != 0) keys.Add(k + 1);
            Assert.Equal(keys, r.ValidKeys[i]);
            var levelLabels = new int[2][];
            float[] levels = [options.High, options.Low];
            for (int l = 0; l < 2; l++)
            {
                // The reference's loop: cat(bg, cams) → bilinear ×½ → kept planes → softmax → PAR → bilinear ×2 → argmax → key.
                var bg = torch.full([1, 1, h, w], levels[l]);
                var stack = torch.cat([bg, valid.narrow(0, i, 1)], 1);
                var small = torch.nn.functional.interpolate(stack, size: [h / 2, w / 2], mode: "bilinear", align_corners: false);
                var kept = small.index_select(1, torch.tensor((ReadOnlySpan<int>)keys.ToArray(), [keys.Count])).softmax(1);
                var image = torch.nn.functional.interpolate(images.narrow(0, i, 1), size: [h / 2, w / 2], mode: "bilinear", align_corners: false);
                var refined = Par.Refine(image, kept, options.Iterations, options.Dilations);
                Assert.Equal(kept.ToArray(), r.InProb.select(0, i).select(0, l).narrow(0, 0, keys.Count).ToArray());
                Assert.Equal(refined.ToArray(), r.OutProb.select(0, i).select(0, l).narrow(0, 0, keys.Count).ToArray());
                var up = torch.nn.functional.interpolate(refined, size: [h, w], mode: "bilinear", align_corners: false);
                levelLabels[l] = Array.ConvertAll(up.argmax(1).ToIntArray(), j => keys[j]);
                Assert.Equal(levelLabels[l], r.LevelLabels.select(0, i).select(0, l).contiguous().ToIntArray());
            }
            for (int p = 0; p < h * w; p++)
            {
                int hi = levelLabels[0][p], lo = levelLabels[1][p];
                expected.Add(hi + lo == 0 ? 0 : hi == 0 ? 255 : hi);
            }
        }
        Assert.Equal(expected.ToArray(), r.Labels.ToIntArray());
        Assert.Contains(255, expected);
        Assert.Contains(0, expected);
    }

    [Fact]
    public void Cam_labels_two_threshold_and_single_threshold()
    {
        using var scope = torch.NewDisposeScope();
        // One pixel each: v = 0.9 (class 2 → label 3), 0.5 (ignored), 0.1 (background); class 0 absent (its 0.95 ignored).
        var cam = torch.tensor(new float[] { 0.95f, 0.95f, 0.95f, 0.2f, 0.5f, 0.05f, 0.9f, 0.1f, 0.1f }, 1, 3, 1, 3);
        var y = torch.tensor(new float[] { 0, 1, 1 }, 1, 3);
        Assert.Equal([3, 255, 0], CamLabels.TwoThreshold(cam, y, 0.7f, 0.25f).ToIntArray());
        Assert.Equal([3, 0, 0], CamLabels.SingleThreshold(cam, y, 0.5f).ToIntArray());
    }
}
