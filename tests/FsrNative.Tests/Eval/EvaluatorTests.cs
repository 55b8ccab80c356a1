using FsrNative.Data;
using FsrNative.Data.Transforms;
using FsrNative.Eval;
using FsrNative.Tests.Data;

namespace FsrNative.Tests.Eval;

/// <summary>Dataset-level evaluation on <see cref="ColourWorld"/>, where the expected scores are known exactly.</summary>
[Trait("Category", EvalCategory.Name)]
public class EvaluatorTests
{
    static readonly Lazy<SegmentationDataset> World = new(() => ColourWorld.Write());
    static readonly EvaluationOptions Exact = new()
    {
        Segmentation = new SegInferenceOptions { Scales = [1.0], Flip = true },
        Cam = new CamInferenceOptions { Scales = [1.0], Flip = true },
    };

    static int Sum(Func<ColourWorld.Scene, int> f) => ColourWorld.Scenes.Sum(f);
    static int Ignored => ColourWorld.Scenes.Sum(s => s.Ignore.Count(x => x));

    [Fact]
    public void PerfectModelScoresOneAndIgnoredPixelsAreNotCounted()
    {
        var r = Evaluator.Run(World.Value, ColourWorld.Perfect, null, Exact);
        Assert.Equal(3, r.Images);
        var s = r.Prediction!;
        Assert.Equal(1.0, s.MeanIoU);
        Assert.Equal(1.0, s.PixelAccuracy);
        Assert.Equal(3 * 24 * 16 - Ignored, s.Pixels);
        Assert.Equal(Ignored, s.IgnoredPixels);
        Assert.Equal(Sum(x => x.Count(2)), s.TruthPixels[1]);
        Assert.Empty(r.Cams);
        Assert.Null(r.PostProcessed);
    }

    [Fact]
    public void AllBackgroundModelScoresTheBackgroundShareOverThreeClasses()
    {
        var r = Evaluator.Run(World.Value, ColourWorld.AllBackground, null, Exact with { BatchSize = 2 });
        var s = r.Prediction!;
        double bg = Sum(x => x.Count(0) + x.Count(1));
        double all = s.Pixels;
        Assert.Equal(bg / all, s.IoU[0], 12);
        Assert.Equal(0.0, s.IoU[1]);
        Assert.Equal(0.0, s.IoU[2]);
        Assert.Equal(bg / all / 3, s.MeanIoU, 12);
        Assert.Equal(bg / all, s.PixelAccuracy, 12);
    }

    [Fact]
    public void CamSweepScoresEachThresholdAsComputedByHand()
    {
        var r = Evaluator.Run(World.Value, null, ColourWorld.Spilling, Exact with { CamThresholdSweep = [0.3f, 0.7f], Examples = 2 });
        var cam = Assert.Single(r.Cams);
        Assert.Equal("CAM", cam.Name);
        Assert.Equal([0.3f, 0.5f, 0.7f], cam.Sweep.Select(p => p.Threshold));
        // 0.5 and 0.7: the spill (0.4 on sky) stays background → perfect.
        Assert.Equal(1.0, cam.Scores.MeanIoU);
        Assert.Equal(1.0, cam.Sweep[2].Scores.MeanIoU);
        // 0.3: sky becomes the first present class of each image (red in a and b, blue in c).
        var scenes = ColourWorld.Scenes;
        double ground = Sum(x => x.Count(1)), sky = Sum(x => x.Count(0));
        double red = Sum(x => x.Count(2)), blue = Sum(x => x.Count(3));
        double iouBg = ground / (ground + sky);
        double iouRed = red / (red + scenes[0].Count(0) + scenes[1].Count(0));
        double iouBlue = blue / (blue + scenes[2].Count(0));
        var low = cam.Sweep[0].Scores;
        Assert.Equal(iouBg, low.IoU[0], 12);
        Assert.Equal(iouRed, low.IoU[1], 12);
        Assert.Equal(iouBlue, low.IoU[2], 12);
        Assert.Equal((iouBg + iouRed + iouBlue) / 3, low.MeanIoU, 12);
        Assert.Equal(0.5f, cam.Best.Threshold);   // ties go to the lowest threshold

        // Examples keep the image, the heat map and the pseudo labels at the main threshold.
        Assert.Equal(2, r.Examples.Count);
        var ex = r.Examples[1];
        Assert.Equal("b", ex.Id);
        Assert.Equal(scenes[1].Mask(), ex.Truth);
        Assert.Equal(scenes[1].Image().Pixels, ex.Image.Pixels);
        Assert.Equal([1f, 1f], ex.ImageLabels);
        var ce = Assert.Single(ex.Cams);
        Assert.Equal(0.5f, ce.Threshold);
        var expected = scenes[1].Mask().Select(v => v == 255 ? (byte)0 : v).ToArray();
        for (int i = 0; i < expected.Length; i++)
            if (!scenes[1].Ignore[i]) Assert.Equal(expected[i], ce.Labels[i]);
        Assert.Equal(0.4f, ce.Heat[0], 4);   // top-left pixel is sky
    }

    [Fact]
    public void PostProcessorIsCalledWithTheOriginalImageAndProbabilities()
    {
        var seen = new List<(int w, int h, int[] probShape, float sum)>();
        LabelPostProcessor fake = (image, probs) =>
        {
            seen.Add((image.Width, image.Height, probs.shape, probs.sum().item() / (image.Width * image.Height)));
            return new byte[image.Width * image.Height];   // everything background
        };
        var dir = DataTestSupport.NewTempDir("eval-predictions");
        var r = Evaluator.Run(World.Value, ColourWorld.Perfect, null, Exact with { PostProcessor = fake, PostProcessorName = "fake CRF", SavePredictionsTo = dir });
        Assert.Equal(3, seen.Count);
        Assert.All(seen, s => { Assert.Equal((24, 16), (s.w, s.h)); Assert.Equal([3, 16, 24], s.probShape); Assert.Equal(1f, s.sum, 4); });
        Assert.Equal(1.0, r.Prediction!.MeanIoU);
        var post = r.PostProcessed!;   // all background: IoU_bg = background share, the two classes 0
        Assert.Equal((double)post.TruthPixels[0] / post.Pixels / 3, post.MeanIoU, 12);
        Assert.Equal(["Pred.", "Pred. + fake CRF"], r.ScoreSets().Select(x => x.Name));
        // The saved predictions are the post-processed ones, as VOC-palette PNGs named by id.
        var png = File.ReadAllBytes(Path.Combine(dir, "a.png"));
        var labels = IndexPng.Decode(png, "a.png", out int w, out int h);
        Assert.Equal((24, 16), (w, h));
        Assert.All(labels, v => Assert.Equal(0, v));
    }

    [Fact]
    public void EvaluatorMatchesTheFunctionsItComposesWithResizingBatchesAndAllScales()
    {
        // Defaults everywhere (3 scales + flips for both), images resized to 32×32, batches of 2 (the last one short):
        // the evaluator must give what the building blocks give image by image.
        var ds = World.Value;
        var options = new EvaluationOptions
        {
            InputSize = 32, BatchSize = 2, Segmentation = SegInferenceOptions.Reported, CamThresholdSweep = [0.3f], Limit = 3,
        };
        var r = Evaluator.Run(ds, ColourWorld.Perfect, ColourWorld.Spilling, options);
        var pred = new ConfusionMatrix(3);
        var cam = new ConfusionMatrix(3);
        var transform = new EvalTransform(32, 32);
        for (int i = 0; i < ds.Count; i++)
        {
            using var scope = torch.NewDisposeScope();
            var sample = ds.Load(i, withMask: true);
            var view = transform.Apply(sample, 0, 0)[0];
            var img = torch.tensor(view.Image, 1, 3, 32, 32);
            var p = SegmentationInference.Predict(ColourWorld.Perfect, img, 16, 24, SegInferenceOptions.Reported);
            pred.Add(sample.Mask!, p.ToIntArray().Select(v => (byte)v).ToArray());
            var cams = CamInference.MultiScale(ColourWorld.Spilling, img)[0];
            var up = FsrNative.torch.nn.functional.interpolate(cams, size: [16, 24], mode: "bilinear", align_corners: false);
            var y = torch.tensor(sample.Labels, 1, 2);
            cam.Add(sample.Mask!, CamInference.Maxima(up, y).Labels(0, 0.5f));
        }
        Assert.Equal(pred.Scores().IoU, r.Prediction!.IoU);
        Assert.Equal(cam.Scores().IoU, r.Cams[0].Scores.IoU);
        Assert.InRange(r.Prediction.MeanIoU, 0.6, 1.0);
        Assert.Contains("Pred.", r.Summary());
    }

    [Fact]
    public void SeveralCamSetsAreScoredSeparately()
    {
        var twoSets = EvalModels.Cams(["CAM", "aux CAM"], x =>
        {
            var main = ColourWorld.Spilling.Cams(x);
            return [main, main.mul(0f)];   // the aux set sees nothing: background everywhere
        });
        var r = Evaluator.Run(World.Value, null, twoSets, Exact with { Limit = 2 });
        Assert.Equal(2, r.Images);
        Assert.Equal(["CAM", "aux CAM"], r.Cams.Select(c => c.Name));
        Assert.Equal(1.0, r.Cams[0].Scores.MeanIoU);
        Assert.Equal(0.0, r.Cams[1].Scores.IoU[1]);
        Assert.Throws<ArgumentException>(() => Evaluator.Run(World.Value, null, null));
    }
}
