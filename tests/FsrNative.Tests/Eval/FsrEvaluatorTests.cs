using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FsrNative.Data;
using FsrNative.Data.Loading;
using FsrNative.Data.Transforms;
using FsrNative.Eval;
using FsrNative.Fsr.Training;
using FsrNative.Model;
using FsrNative.Nn;

namespace FsrNative.Tests.Eval;

/// <summary>The in-training validation (fsr-spec §8.3) behind the trainer's hook, and the run report it writes.</summary>
[Trait("Category", EvalCategory.Name)]
public class FsrEvaluatorTests
{
    /// <summary>Only the modules, which is all the evaluator looks at.</summary>
    sealed class ModulesOnly(IReadOnlyDictionary<string, Module> modules) : IFsrTrainingStep
    {
        public IReadOnlyDictionary<string, Module> Modules => modules;
        public FsrParameterSplit Parameters => throw new NotSupportedException();
        public StepResult Step(Batch batch, StepContext context) => throw new NotSupportedException();
        public void AfterOptimizerStep(StepContext context) { }
        public void Dispose() { }
    }

    /// <summary>Spec §8.3 written out for one network, image by image, with the model code's own pieces: the image
    /// normalised, the decoder at the grid, logits upsampled bilinearly to the label size, argmax; the multi-scale CAM
    /// of <see cref="MultiScaleCam"/> (training scales, flip-max, scale-sum, min-max) in single-threshold mode (bkg 0.5)
    /// with the image's ground-truth labels. Returns (decoder mIoU, CAM mIoU, aux CAM mIoU).</summary>
    static (double seg, double cam, double aux) ByHand(WsssNetwork network, SegmentationDataset val, IReadOnlyList<double> camScales)
    {
        int k = val.Classes.NumLabels;
        var seg = new ConfusionMatrix(k);
        var cam = new ConfusionMatrix(k);
        var aux = new ConfusionMatrix(k);
        bool was = network.training;
        network.eval();
        for (int i = 0; i < val.Count; i++)
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var sample = val.Load(i, withMask: true);
            int h = sample.Image.Height, w = sample.Image.Width;
            var img = ImageF.FromRgb(sample.Image);
            var norm = new float[img.Data.Length];
            Photometric.Normalize(img, norm, Photometric.ImageNetMean, Photometric.ImageNetStd);
            var x = torch.tensor(norm, 1, 3, h, w);   // the synthetic images are already input_size (32) square
            var logits = torch.nn.functional.interpolate(network.forward_segmentation(x).segOut, [h, w], mode: "bilinear", align_corners: false);
            seg.Add(sample.Mask!, logits.argmax(1).ToIntArray().Select(v => (byte)v).ToArray());
            var (top, auxCam) = MultiScaleCam.Compute(network, x, camScales);
            cam.Add(sample.Mask!, CamLabels(top, sample.Labels));
            aux.Add(sample.Mask!, CamLabels(auxCam, sample.Labels));
        }
        network.train(was);
        return (seg.Scores().MeanIoU, cam.Scores().MeanIoU, aux.Scores().MeanIoU);
    }

    static byte[] CamLabels(Tensor cams, float[] labels)
    {
        int c = cams.size(1), n = cams.size(2) * cams.size(3);
        var v = cams.ToArray();
        var result = new byte[n];
        for (int p = 0; p < n; p++)
        {
            float best = float.NegativeInfinity;
            int arg = 0;
            for (int j = 0; j < c; j++)
            {
                float s = labels[j] * v[j * n + p];
                if (s > best) { best = s; arg = j; }
            }
            result[p] = best > 0.5f ? (byte)(arg + 1) : (byte)0;
        }
        return result;
    }

    [Fact]
    public void ValidationScoresStudentTeacherAndBaselinesAsSpecSection83Says()
    {
        var config = FsrEvalFixture.Config(FsrEvalFixture.NewFolder());
        var run = RunFolder.Create(config);
        using var student = FsrEvalFixture.Network(config, 1);
        using var teacher = FsrEvalFixture.Network(config, 2);
        FsrEvalFixture.PredictBackgroundOnly(student);
        student.train();
        teacher.train();
        var output = new StringWriter();
        var evaluator = new FsrEvaluator(config, Device.CPU, new FsrEvaluatorOptions { Output = output, WriteReport = false });
        var step = new ModulesOnly(new Dictionary<string, Module> { ["student"] = student, ["teacher"] = teacher });

        var scores = evaluator.Evaluate(new EvaluationContext(2, false, step, config, run, Device.CPU));

        Assert.Equal(
            ["baseline.background_miou", "baseline.one_class_miou", "student.aux_cam_miou", "student.cam_miou", "student.seg_miou",
             "teacher.aux_cam_miou", "teacher.cam_miou", "teacher.seg_miou"],
            scores.Keys.Order(StringComparer.Ordinal));
        // Background everywhere from the decoder and from both CAM sets: exactly the all-background baseline.
        double bg = scores["baseline.background_miou"];
        Assert.InRange(bg, 0.01, 0.5);
        Assert.Equal(bg, scores["student.seg_miou"], 12);
        Assert.Equal(bg, scores["student.cam_miou"], 12);
        Assert.Equal(bg, scores["student.aux_cam_miou"], 12);
        Assert.True(scores["baseline.one_class_miou"] < bg, "on the synthetic data background covers more than any one class");

        // The teacher (random weights, stochastic depth 0.5 in training mode) is scored in evaluation mode.
        var val = TrainingData.Open(config, "val");
        var (seg, cam, aux) = ByHand(teacher, val, config.Cam.CamScales);
        Assert.Equal(seg, scores["teacher.seg_miou"], 12);
        Assert.Equal(cam, scores["teacher.cam_miou"], 6);
        Assert.Equal(aux, scores["teacher.aux_cam_miou"], 6);
        Assert.True(student.training && teacher.training, "the networks are given back in training mode");

        string text = output.ToString();
        Assert.Contains("validation, step 2, student:", text);
        Assert.Contains("validation, step 2, teacher:", text);
        Assert.Contains("trivial baselines: all background mIoU", text);
        Assert.Null(evaluator.ReportPath);
        Assert.False(Directory.Exists(Path.Combine(run.Path, FsrEvaluator.ReportFolder)));
    }

    [Fact]
    public void AStepWithoutAStudentNetworkIsAnError()
    {
        var config = FsrEvalFixture.Config(FsrEvalFixture.NewFolder());
        var run = RunFolder.Create(config);
        var evaluator = new FsrEvaluator(config, Device.CPU, new FsrEvaluatorOptions { Output = TextWriter.Null });
        using var other = new FsrNative.Nn.Linear(2, 2);
        var e = Assert.Throws<InvalidOperationException>(() => evaluator.Evaluate(new EvaluationContext(1, false,
            new ModulesOnly(new Dictionary<string, Module> { ["teacher"] = other }), config, run, Device.CPU)));
        Assert.Contains("no 'student' module", e.Message);
        e = Assert.Throws<InvalidOperationException>(() => evaluator.Evaluate(new EvaluationContext(1, false,
            new ModulesOnly(new Dictionary<string, Module> { ["student"] = other }), config, run, Device.CPU)));
        Assert.Contains("is a Linear, not a WsssNetwork", e.Message);
    }

    [Fact]
    public void TrainingWithTheEvaluatorLogsScoresAndEndsWithAReportWhoseLinksResolve()
    {
        var config = FsrEvalFixture.Config(FsrEvalFixture.NewFolder());
        var run = RunFolder.Create(config);
        var output = new StringWriter();
        var evaluator = new FsrEvaluator(config, Device.CPU, new FsrEvaluatorOptions { Output = output, Examples = 2 });
        using var step = new TinyWsssStep(config);
        using (var trainer = new Trainer(config, run, step, Device.CPU, new TrainerOptions { Evaluator = evaluator, Output = TextWriter.Null }))
            Assert.Equal(TrainingStatus.Completed, trainer.Run().Status);

        var evals = MetricsLog.Read(run.MetricsPath).Where(l => (string?)l["event"] == "eval").ToList();
        Assert.Equal([2L, 4L], evals.Select(l => (long)l["step"]!));
        foreach (var e in evals)
            foreach (var name in new[] { "student.seg_miou", "student.cam_miou", "student.aux_cam_miou", "teacher.seg_miou", "baseline.background_miou" })
                Assert.InRange((double)e["scores"]![name]!, 0.0, 1.0);
        var final = JsonNode.Parse(File.ReadAllText(run.EvalFileFor(4)))!;
        Assert.True((bool)final["final"]!);

        string index = Path.Combine(run.Path, "report", "index.html");
        Assert.Equal(index, evaluator.ReportPath);
        Assert.Contains($"report: {index}", output.ToString());
        string html = File.ReadAllText(index);
        Assert.Contains("FSR run run — step 4", html);
        Assert.Contains("trivial baselines", html);
        Assert.Contains("teacher", html);
        Assert.Contains("aux CAM @ 0.5", html);
        var links = Regex.Matches(html, "(?:src|href)=\"([^\"#:]+)\"").Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.Contains(links, l => l.Contains("curve-loss"));
        Assert.Contains(links, l => l.Contains("curve-miou"));
        Assert.Contains(links, l => l.Contains("panel"));
        foreach (var link in links)
            Assert.True(File.Exists(Path.Combine(run.Path, "report", link)), $"{link} is referenced by the report but missing");
        Assert.Equal(2, evaluator.LastResults["student"].Examples.Count);
    }
}
