using FsrNative.Eval;

namespace FsrNative.Tests.Eval;

/// <summary>Multi-scale + flip fusion (spec §8.1, §3.5) and CAM labels (§3.5), with fake models whose outputs are
/// constructed so that each rule (un-flip, sum vs max, sizes ⌊sH⌋, ReLU, normalisation, class masking) shows.</summary>
[Trait("Category", EvalCategory.Name)]
public class InferenceTests
{
    /// <summary>Shifts every row one pixel to the right (the first column repeated): not flip-equivariant, so a
    /// missing or wrong un-flip changes the result.</summary>
    static Tensor ShiftRight(Tensor x)
    {
        int w = x.size(3);
        return torch.cat([x.narrow(3, 0, 1), x.narrow(3, 0, w - 1)], 3);
    }

    /// <summary>A model whose output (N, 2, 2, 2) is the input height in channel 0 and minus it in channel 1;
    /// records the input shapes it saw.</summary>
    static Func<Tensor, Tensor> SizeReporter(List<int[]> calls) => x =>
    {
        calls.Add(x.shape);
        int n = x.size(0);
        float h = x.size(2);
        return torch.cat([torch.full([n, 1, 2, 2], h), torch.full([n, 1, 2, 2], -h)], 1);
    };

    static float[] Ramp(int n) => Enumerable.Range(0, n).Select(i => (float)((i * 7) % 11) - 3f).ToArray();

    [Fact]
    public void SegmentationUnflipsTheFlippedLogitsAndSums()
    {
        const int H = 3, W = 5;
        var values = Ramp(H * W);
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(values, 1, 1, H, W);
        var fused = SegmentationInference.Logits(EvalModels.Segmentation(ShiftRight), x, H, W, new SegInferenceOptions { Scales = [1.0], Flip = true });
        var got = fused.ToArray();
        for (int h = 0; h < H; h++)
            for (int w = 0; w < W; w++)
            {
                // model(x)[w] = x[w−1]; unflip(model(flip x))[w] = x[w+1]; edges repeat.
                float expected = values[h * W + Math.Max(w - 1, 0)] + values[h * W + Math.Min(w + 1, W - 1)];
                Assert.Equal(expected, got[h * W + w]);
            }
    }

    [Fact]
    public void SegmentationTakesTheMaximumOverScalesOfFloorSizes()
    {
        var calls = new List<int[]>();
        using var scope = torch.NewDisposeScope();
        var x = torch.zeros([2, 3, 10, 7]);
        var fused = SegmentationInference.Logits(EvalModels.Segmentation(SizeReporter(calls)), x, 4, 3, SegInferenceOptions.Reported);
        Assert.Equal([2, 2, 4, 3], fused.shape);
        // Scales 1, 1.25, 1.5 of 10×7: 10×7, ⌊12.5⌋×⌊8.75⌋ = 12×8, 15×⌊10.5⌋ = 15×10, each a batch of 2N (flips).
        Assert.Equal([[4, 3, 10, 7], [4, 3, 12, 8], [4, 3, 15, 10]], calls);
        var v = fused.ToArray();
        Assert.All(v.Take(12), a => Assert.Equal(2 * 15f, a));    // channel 0: max over scales of (h + h)
        Assert.All(v.Skip(12).Take(12), a => Assert.Equal(-2 * 10f, a));   // channel 1: max of −2h is at the smallest h

        calls.Clear();
        var single = SegmentationInference.Logits(EvalModels.Segmentation(SizeReporter(calls)), x, 4, 3, SegInferenceOptions.Validation);
        Assert.Equal([[2, 3, 10, 7]], calls);
        Assert.All(single.ToArray().Take(24), a => Assert.Equal(10f, Math.Abs(a)));
    }

    [Fact]
    public void InferenceRunsWithoutGradientAndLeavesOnlyItsResult()
    {
        using var scope = torch.NewDisposeScope();
        var weight = torch.ones([1, 3, 1, 1], requires_grad: true);
        var x = torch.rand([1, 3, 8, 8]);
        int before = scope.Count;
        var model = EvalModels.Segmentation(im => im.mul(weight).sum(1, keepdim: true));
        var logits = SegmentationInference.Logits(model, x, 8, 8);
        Assert.False(logits.requires_grad);
        Assert.Null(logits.grad_fn);
        Assert.Equal(before + 1, scope.Count);   // every temporary of the 3 scales × flip was freed
        var pred = SegmentationInference.Predict(model, x, 8, 8);
        Assert.Equal(DType.Int32, pred.DType);
        Assert.Equal(before + 2, scope.Count);

        var cams = CamInference.MultiScale(EvalModels.Cam(im => im.mul(weight)), x);
        Assert.Single(cams);
        Assert.False(cams[0].requires_grad);
        Assert.Equal(before + 3, scope.Count);

        // An identity model at scale 1 without flip returns a copy, never the caller's own tensor.
        var same = SegmentationInference.Logits(EvalModels.Segmentation(im => im), x, 8, 8, SegInferenceOptions.Validation);
        Assert.NotSame(x, same);
        Assert.Equal(x.ToArray(), same.ToArray());
    }

    [Fact]
    public void CamTakesFlipMaximumThenReluThenScaleSum()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(new float[] { 3, -1, 4, -2, -5 }, 1, 1, 1, 5);
        var raw = new CamInferenceOptions { Scales = [1.0], Normalize = false };
        var cam = CamInference.MultiScale(EvalModels.Cam(ShiftRight), x, raw)[0].ToArray();
        // shifted right [3 3 −1 4 −2], un-flipped shifted left [−1 4 −2 −5 −5]; max, then ReLU
        Assert.Equal([3f, 4, 0, 4, 0], cam);

        var calls = new List<int[]>();
        var images = torch.zeros([1, 3, 8, 6]);
        var sum = CamInference.MultiScale(EvalModels.Cam(SizeReporter(calls)), images, CamInferenceOptions.Spec with { Normalize = false })[0];
        Assert.Equal([[2, 3, 8, 6], [2, 3, 4, 3], [2, 3, 12, 9]], calls);
        Assert.Equal([1, 2, 8, 6], sum.shape);
        var v = sum.ToArray();
        Assert.All(v.Take(48), a => Assert.Equal(8f + 4 + 12, a));   // summed over scales 1, 0.5, 1.5
        Assert.All(v.Skip(48), a => Assert.Equal(0f, a));            // negative maps vanish under ReLU
    }

    [Fact]
    public void CamNormalisationIsPerImageAndClassMinMax()
    {
        using var scope = torch.NewDisposeScope();
        var cams = torch.tensor(new float[] { 1, 2, 3, -1, -1, -1, 10, 0, 5, 2, 4, 2 }, 2, 2, 1, 3);
        var n = CamInference.Normalize(cams).ToArray();
        float d = 2 + 1e-5f;
        Assert.Equal([0f, 1 / d, 2 / d, 0, 0, 0, 10 / (10 + 1e-5f), 0, 5 / (10 + 1e-5f), 0, 2 / d, 0], n);

        // The default multi-scale CAM is in [0, 1) and reaches ≈1 on the class.
        var scene = ColourWorld.Scenes[0];
        var ds = ColourWorld.Write();
        var view = new FsrNative.Data.Transforms.EvalTransform().Apply(ds.Load(0), 0, 0)[0];
        var img = torch.tensor(view.Image, 1, 3, view.Height, view.Width);
        var ms = CamInference.MultiScale(ColourWorld.Spilling, img)[0].ToArray();
        Assert.All(ms, a => Assert.True(a >= 0f && a < 1f, $"{a}"));
        Assert.True(ms.Take(scene.Width * scene.Height).Max() > 0.999f);
    }

    [Fact]
    public void CamLabelsMaskAbsentClassesAndThresholdStrictly()
    {
        using var scope = torch.NewDisposeScope();
        var cams = torch.tensor(new float[]
        {
            0.9f, 0.2f, 0.6f, 0.5f,      // class 1
            0.1f, 0.7f, 0.6f, 0.3f,      // class 2
            0.95f, 0.95f, 0.95f, 0.95f,  // class 3: not in the image labels, must be ignored
        }, 1, 3, 1, 4);
        var y = torch.tensor(new float[] { 1, 1, 0 }, 1, 3);
        // v = 0.9 (class 1), 0.7 (class 2), 0.6 tie → first class, 0.5 is not > 0.5 → background
        Assert.Equal([1, 2, 1, 0], CamInference.ToLabels(cams, y, 0.5f).ToIntArray());
        Assert.Equal([1, 2, 255, 0], CamInference.ToLabels(cams, y, 0.65f, 0.55f).ToIntArray());
        var m = CamInference.Maxima(cams, y);
        Assert.Equal([0.9f, 0.7f, 0.6f, 0.5f], m.Values);
        Assert.Equal(new byte[] { 1, 2, 1, 1 }, m.Labels(0, 0.4f));
        Assert.Equal([0.9f, 0.7f, 0.6f, 0.5f], m.Heat(0));

        var none = torch.zeros([1, 3]);
        Assert.Equal([0, 0, 0, 0], CamInference.ToLabels(cams, none, 0.5f).ToIntArray());
        Assert.Throws<ArgumentException>(() => CamInference.ToLabels(cams, torch.zeros([1, 2]), 0.5f));
    }

    [Fact]
    public void BadModelOutputsAndOptionsAreReported()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.zeros([1, 3, 4, 4]);
        var wrongBatch = EvalModels.Segmentation(im => torch.zeros([1, 2, 4, 4]));
        var e = Assert.Throws<InvalidOperationException>(() => SegmentationInference.Logits(wrongBatch, x, 4, 4));
        Assert.Contains("batch of 2", e.Message);
        Assert.Throws<ArgumentException>(() => SegmentationInference.Logits(wrongBatch, x, 4, 4, new SegInferenceOptions { Scales = [] }));
        Assert.Throws<ArgumentException>(() => SegmentationInference.Logits(wrongBatch, torch.zeros([3, 4, 4]), 4, 4));
        Assert.Throws<ArgumentException>(() => CamInference.MultiScale(EvalModels.Cam(im => im), x, new CamInferenceOptions { Scales = [0] }));
    }
}
