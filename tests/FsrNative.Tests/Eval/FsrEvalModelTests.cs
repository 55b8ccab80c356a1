using FsrNative.Data;
using FsrNative.Eval;
using FsrNative.Fsr.Training;
using FsrNative.Reports;

namespace FsrNative.Tests.Eval;

/// <summary>The FSR network as evaluation's models, the trivial baselines, the dense-CRF post-processor and the
/// metrics.jsonl reader of the report.</summary>
[Trait("Category", EvalCategory.Name)]
public class FsrEvalModelTests
{
    static readonly Lazy<SegmentationDataset> World = new(() => ColourWorld.Write());
    static readonly EvaluationOptions Exact = new()
    {
        Segmentation = new SegInferenceOptions { Scales = [1.0], Flip = true },
        Cam = new CamInferenceOptions { Scales = [1.0], Flip = true },
    };

    static void AssertSame(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.Equal(expected.ToArray(), actual.ToArray());
    }

    [Fact]
    public void AdaptersGiveTheDecoderLogitsAndBothCamSetsOfTheNetwork()
    {
        var config = FsrEvalFixture.Config(FsrEvalFixture.NewFolder());
        using var net = FsrEvalFixture.Network(config, 3);
        net.eval();
        var model = new FsrEvalModel(net);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var x = torch.randn([2, 3, 32, 32], new Generator(4));
        var (seg, top, aux) = net.forward_segmentation(x);

        var logits = model.Logits(x);
        Assert.Equal([2, 7, 4, 4], logits.shape);   // K = 7 labels of the synthetic data, 4×4 grid of 8-px patches
        AssertSame(seg, logits);

        ICamModel cams = model;
        Assert.Equal(["CAM", "aux CAM"], cams.CamNames);
        var sets = cams.CamSets(x);
        Assert.Equal(2, sets.Length);
        Assert.Equal([2, 6, 4, 4], sets[0].shape);   // C = 6 foreground classes
        AssertSame(top, sets[0]);
        AssertSame(aux, sets[1]);
        AssertSame(top, cams.Cams(x));

        // A non-square image gives a non-square grid.
        Assert.Equal([1, 7, 3, 5], model.Logits(torch.randn([1, 3, 24, 40], new Generator(5))).shape);
    }

    [Fact]
    public void EvaluatingPutsTheNetworkInEvalModeAndGivesItsModeBack()
    {
        var config = FsrEvalFixture.Config(FsrEvalFixture.NewFolder());
        using var net = FsrEvalFixture.Network(config, 3);
        var model = new FsrEvalModel(net);
        net.train();
        using (model.Evaluating()) Assert.False(net.training);
        Assert.True(net.training);
        net.eval();
        using (model.Evaluating()) Assert.False(net.training);
        Assert.False(net.training);
    }

    [Fact]
    public void TrivialBaselinesEqualTheScoresOfConstantModels()
    {
        var bg = Evaluator.Run(World.Value, ColourWorld.AllBackground, null, Exact).Prediction!;
        var allRed = Evaluator.Run(World.Value, EvalModels.Segmentation(x =>
        {
            int n = x.size(0), h = x.size(2), w = x.size(3);
            return torch.cat([torch.zeros([n, 1, h, w]), torch.ones([n, 1, h, w]), torch.zeros([n, 1, h, w])], 1);
        }), null, Exact).Prediction!;

        var background = TrivialBaselines.AllBackground(bg);
        Assert.Equal(0, background.Label);
        Assert.Equal(bg.MeanIoU, background.Scores.MeanIoU, 12);
        Assert.Equal(bg.IoU, background.Scores.IoU);
        Assert.Equal(bg.PixelAccuracy, background.Scores.PixelAccuracy, 12);

        var red = TrivialBaselines.Constant(bg, 1);   // any score set of the split gives the ground-truth counts
        Assert.Equal(allRed.MeanIoU, red.MeanIoU, 12);
        Assert.Equal(allRed.IoU, red.IoU);

        var best = TrivialBaselines.BestOneClass(bg);
        var blue = TrivialBaselines.Constant(bg, 2);
        Assert.Equal(red.MeanIoU >= blue.MeanIoU ? 1 : 2, best.Label);
        Assert.Equal(Math.Max(red.MeanIoU, blue.MeanIoU), best.Scores.MeanIoU);
        Assert.Contains("all background", TrivialBaselines.Describe(background, best));
        Assert.Throws<ArgumentOutOfRangeException>(() => TrivialBaselines.Constant(bg, 3));
    }

    [Fact]
    public void DenseCrfPostProcessorKeepsAPerfectPredictionAndChecksShapes()
    {
        var r = Evaluator.Run(World.Value, ColourWorld.Perfect, null, Exact with { PostProcessor = DenseCrfPostProcessor.Create(), Examples = 1 });
        Assert.Equal(1.0, r.Prediction!.MeanIoU);
        Assert.Equal(1.0, r.PostProcessed!.MeanIoU);
        Assert.Equal("Pred. + CRF", r.ScoreSets().ElementAt(1).Name);

        // Uncertain probabilities: the bilateral kernel pulls each pixel to the label of its colour region.
        var scene = ColourWorld.Scenes[0];
        var image = scene.Image();
        var truth = scene.Mask();
        int n = image.Width * image.Height;
        var probs = new float[3 * n];
        var g = new Random(7);
        for (int i = 0; i < n; i++)
        {
            int t = truth[i] == 255 ? 0 : truth[i];
            int noisy = g.NextDouble() < 0.2 ? (t + 1) % 3 : t;     // 20 % of the pixels lean to a wrong label
            for (int k = 0; k < 3; k++) probs[k * n + i] = k == noisy ? 0.5f : 0.25f;
        }
        using var p = torch.tensor(probs, 3, image.Height, image.Width);
        var crf = DenseCrfPostProcessor.Create()(image, p);
        int wrongBefore = 0, wrongAfter = 0;
        for (int i = 0; i < n; i++)
        {
            if (truth[i] == 255) continue;
            int argmax = probs[truth[i] * n + i] == 0.5f ? truth[i] : -1;
            if (argmax != truth[i]) wrongBefore++;
            if (crf[i] != truth[i]) wrongAfter++;
        }
        Assert.True(wrongBefore > 20, $"{wrongBefore} noisy pixels");
        Assert.True(wrongAfter < wrongBefore / 4, $"the CRF left {wrongAfter} of {wrongBefore} wrong pixels");

        using var wrongShape = torch.zeros([3, image.Height + 1, image.Width]);
        var e = Assert.Throws<ArgumentException>(() => DenseCrfPostProcessor.Create()(image, wrongShape));
        Assert.Contains("dense CRF", e.Message);
    }

    [Fact]
    public void CrfParametersComeFromTheEvalSettings()
    {
        var config = FsrEvalFixture.Config(FsrEvalFixture.NewFolder(), ("eval.crf_iters", "3"), ("eval.crf_bilateral_srgb", "7"));
        var p = FsrEvaluation.CrfParameters(config.Eval);
        Assert.Equal(3, p.Iterations);
        Assert.Equal(7f, p.BilateralSigmaRgb);
        Assert.Equal(121f, p.BilateralSigmaXy);
        Assert.Equal(1f, p.GaussianSigma);
        Assert.Equal(4f, p.BilateralWeight);
        Assert.Equal(1e-5f, p.Clip);
    }

    [Fact]
    public void RunMetricsReadLossesAndMiouFromTheMetricsLog()
    {
        string file = Path.Combine(FsrEvalFixture.NewFolder(), "metrics.jsonl");
        File.WriteAllLines(file,
        [
            """{"event":"start","step":0}""",
            """{"event":"step","step":1,"total":2.5,"loss":{"cls":2.0,"seg":0.5}}""",
            """{"event":"step","step":2,"total":"NaN","loss":{"cls":1.5,"seg":"Infinity"}}""",
            """{"event":"eval","step":2,"final":false,"scores":{"student.seg_miou":0.25,"student.cam_miou":0.5,"other":3}}""",
            """{"event":"step","step":3,"tot""",
        ]);
        var log = RunMetrics.Load(file, out int skipped);
        Assert.Equal(1, skipped);
        Assert.Equal(["loss/total", "loss/cls", "loss/seg", "miou/student.seg_miou", "miou/student.cam_miou"], log.Names);
        Assert.Equal([1.0], log.Series("loss/total").Steps);
        Assert.Equal([2.5], log.Series("loss/total").Values);
        Assert.Equal([1.0, 2.0], log.Series("loss/cls").Steps);
        Assert.Equal([1.0], log.Series("loss/seg").Steps);
        Assert.Equal([0.25], log.Series("miou/student.seg_miou").Values);
        Assert.Throws<FileNotFoundException>(() => RunMetrics.Load(file + ".missing"));
    }
}
