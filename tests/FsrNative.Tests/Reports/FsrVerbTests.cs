using System.Text.Json.Nodes;
using FsrNative.Data;
using FsrNative.Data.Transforms;
using FsrNative.Fsr.Cli;
using FsrNative.Fsr.Training;
using FsrNative.Model;
using FsrNative.Tests.Eval;
using FsrNative.Weights;

namespace FsrNative.Tests.Reports;

/// <summary><c>fsr eval</c> and <c>fsr infer</c> on a checkpoint written in the test with the trainer's Checkpoint API.</summary>
[Trait("Category", EvalCategory.Name)]
public class FsrVerbTests
{
    sealed record Trained(FsrConfig Config, RunFolder Run, string Checkpoint);

    /// <summary>A run folder whose checkpoint (step 5) holds a background-only student and a random teacher.</summary>
    static Trained RunWithCheckpoint(params (string, string)[] extra)
    {
        var config = FsrEvalFixture.Config(FsrEvalFixture.NewFolder(), extra);
        var run = RunFolder.Create(config);
        using var student = FsrEvalFixture.Network(config, 1);
        using var teacher = FsrEvalFixture.Network(config, 2);
        FsrEvalFixture.PredictBackgroundOnly(student);
        return new Trained(config, run, FsrEvalFixture.SaveCheckpoint(run, 5, student, teacher));
    }

    [Fact]
    public void EvalScoresTheNewestCheckpointPrintsTheTableAndWritesScoresAndReport()
    {
        var t = RunWithCheckpoint();
        var output = new StringWriter();
        Assert.Equal(TrainCommand.Done, EvalCommand.Run(t.Config, t.Run, null, new EvalCommand.Options { Examples = 2 }, output));

        string text = output.ToString();
        Assert.Contains($"evaluating the student of {t.Checkpoint} (step 5) on synthetic 'val' (4 images)", text);
        Assert.Contains("4/4 images", text);
        Assert.Matches(@"label\s+Pred\.\s+CAM @ 0\.5\s+aux CAM @ 0\.5", text);
        Assert.Matches(@"\nmIoU\s+\d+\.\d\d", text);
        Assert.Contains("trivial baselines: all background mIoU", text);

        string json = Path.Combine(t.Run.EvalPath, "eval-step-000000005-student.json");
        Assert.Contains($"scores: {json}", text);
        var scores = JsonNode.Parse(File.ReadAllText(json))!["scores"]!;
        double bg = (double)scores["baseline.background_miou"]!;
        Assert.Equal(bg, (double)scores["seg_miou"]!, 12);   // the student predicts background everywhere
        Assert.Equal(bg, (double)scores["cam_miou"]!, 12);
        Assert.Null(scores["seg_crf_miou"]);

        string index = Path.Combine(t.Run.EvalPath, "report-step-000000005-student", "index.html");
        Assert.Contains($"report: {index}", text);
        string html = File.ReadAllText(index);
        Assert.Contains("FSR student, step 5, on &#39;val&#39;", html);
        Assert.Contains(t.Checkpoint, html);
        Assert.Contains("panel-", html);
    }

    [Fact]
    public void EvalWithCrfScoresTheTeacherBesideItsCrfPrediction()
    {
        var t = RunWithCheckpoint(("eval.crf", "true"), ("eval.infer_scales", "1,1.5"));
        string report = Path.Combine(FsrEvalFixture.NewFolder(), "my-report");
        var output = new StringWriter();
        Assert.Equal(TrainCommand.Done, EvalCommand.Run(t.Config, t.Run, t.Checkpoint,
            new EvalCommand.Options { Model = "teacher", Limit = 2, ReportDir = report, Examples = 1 }, output));
        Assert.Contains("scales [1, 1.5] with flips, CRF on", output.ToString());
        var j = JsonNode.Parse(File.ReadAllText(Path.Combine(t.Run.EvalPath, "eval-step-000000005-teacher-crf.json")))!;
        Assert.Equal(2, (int)j["images"]!);
        Assert.True((bool)j["crf"]!);
        Assert.InRange((double)j["scores"]!["seg_crf_miou"]!, 0.0, 1.0);
        Assert.Contains("Pred. + CRF", File.ReadAllText(Path.Combine(report, "index.html")));
    }

    [Fact]
    public void EvalErrorsNameTheFileAndTheProblem()
    {
        var t = RunWithCheckpoint();
        var e1 = Assert.Throws<FileNotFoundException>(() => EvalCommand.Run(t.Config, t.Run, t.Checkpoint + ".missing", new EvalCommand.Options(), TextWriter.Null));
        Assert.Contains(t.Checkpoint + ".missing", e1.Message);

        string corrupt = Path.Combine(t.Run.CheckpointsPath, "broken.safetensors");
        File.WriteAllBytes(corrupt, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        var e2 = Assert.Throws<CheckpointCorruptException>(() => EvalCommand.Run(t.Config, t.Run, corrupt, new EvalCommand.Options(), TextWriter.Null));
        Assert.Contains(corrupt, e2.Message);

        // A checkpoint without a teacher, and one of another network size.
        string studentOnly = Path.Combine(t.Run.CheckpointsPath, "student-only.safetensors");
        using (var net = FsrEvalFixture.Network(t.Config, 3))
            Checkpoint.Save(studentOnly, TrainingState.Capture(1, models: new Dictionary<string, FsrNative.Nn.Module> { ["student"] = net }));
        var e3 = Assert.Throws<ArgumentException>(() => EvalCommand.Run(t.Config, t.Run, studentOnly, new EvalCommand.Options { Model = "teacher" }, TextWriter.Null));
        Assert.Contains($"checkpoint {studentOnly}: holds no 'teacher' network (it holds: student)", e3.Message);

        var wider = FsrEvalFixture.Config(FsrEvalFixture.NewFolder(), ("model.embed_dim", "24"));
        string other = Path.Combine(t.Run.CheckpointsPath, "wider.safetensors");
        using (var net = FsrEvalFixture.Network(wider, 3))
            Checkpoint.Save(other, TrainingState.Capture(1, models: new Dictionary<string, FsrNative.Nn.Module> { ["student"] = net }));
        var e4 = Assert.Throws<ArgumentException>(() => EvalCommand.Run(t.Config, t.Run, other, new EvalCommand.Options(), TextWriter.Null));
        Assert.Contains($"checkpoint {other}: its 'student' weights do not fit the network of the run's configuration", e4.Message);
        Assert.Contains("encoder.pos_embed", e4.Message);

        var emptyConfig = FsrEvalFixture.Config(FsrEvalFixture.NewFolder());
        var empty = RunFolder.Create(emptyConfig);
        var e5 = Assert.Throws<FileNotFoundException>(() => EvalCommand.Run(emptyConfig, empty, null, new EvalCommand.Options(), TextWriter.Null));
        Assert.Contains("has no checkpoint", e5.Message);
    }

    [Fact]
    public void TheEvalVerbRunsFromTheCommandLine()
    {
        var t = RunWithCheckpoint();
        Assert.Equal(TrainCommand.Done, Cli.Build().Parse(["eval", "--run", t.Run.Path, "--limit", "1", "--examples", "0", "--progress", "none"]).Invoke());
        Assert.True(File.Exists(Path.Combine(t.Run.EvalPath, "eval-step-000000005-student.json")));
        Assert.Equal(TrainCommand.BadInput, Cli.Build().Parse(["eval", "--run", t.Run.Path, "--checkpoint", t.Checkpoint + ".x"]).Invoke());
        Assert.Equal(TrainCommand.BadInput, Cli.Build().Parse(["eval", "--run", t.Run.Path, "--limit", "0"]).Invoke());
    }

    [Fact]
    public void InferWritesPaletteLabelsAndOverlaysAndSkipsUnreadableImages()
    {
        var t = RunWithCheckpoint(("eval.infer_scales", "1,1.25"));
        string input = FsrEvalFixture.NewFolder(), outDir = Path.Combine(FsrEvalFixture.NewFolder(), "masks");
        var val = TrainingData.Open(t.Config, "val");
        var a = val.Load(0).Image;
        File.WriteAllBytes(Path.Combine(input, "a.png"), ImageCodec.EncodePngRgb(a.Pixels, a.Width, a.Height));
        var b = new RgbImage(40, 24, Enumerable.Range(0, 40 * 24 * 3).Select(i => (byte)(i * 7 % 251)).ToArray());
        File.WriteAllBytes(Path.Combine(input, "b.jpg"), ImageCodec.EncodeJpeg(b.Pixels, b.Width, b.Height));
        File.WriteAllBytes(Path.Combine(input, "c.png"), [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);
        File.WriteAllText(Path.Combine(input, "notes.txt"), "not an image");

        var output = new StringWriter();
        var error = new StringWriter();
        // The teacher: random weights, so the labels are not trivial.
        Assert.Equal(TrainCommand.BadInput, InferCommand.Run(t.Config, t.Run, null, "teacher", input, outDir, output, error));
        Assert.Contains(Path.Combine(input, "c.png") + ": ", error.ToString());
        Assert.Contains("1 of 3 image(s) could not be read", error.ToString());
        Assert.Contains("[1/3] a.png 32x32:", output.ToString());
        Assert.Contains("[2/3] b.jpg 40x24:", output.ToString());
        Assert.Equal(["a-overlay.png", "a.png", "b-overlay.png", "b.png"], Directory.GetFiles(outDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        // a.png holds the labels of the model's own §8.1 inference (SegmentationInference.Predict) at the image's size.
        var labels = IndexPng.Decode(File.ReadAllBytes(Path.Combine(outDir, "a.png")), "a.png", out int w, out int h);
        Assert.Equal((32, 32), (w, h));
        using (var teacher = FsrEvaluation.LoadNetwork(t.Config, t.Checkpoint, "teacher", Device.CPU, out _))
        using (var scope = torch.NewDisposeScope())
        {
            var img = ImageF.FromRgb(a);
            var norm = new float[img.Data.Length];
            Photometric.Normalize(img, norm, Photometric.ImageNetMean, Photometric.ImageNetStd);
            var expected = Model.SegmentationInference.Predict(teacher, torch.tensor(norm, 1, 3, 32, 32), [1.0, 1.25]).pred.ToIntArray();
            Assert.Equal(expected.Select(v => (byte)v), labels);
        }
        var overlay = ImageCodec.LoadRgb(Path.Combine(outDir, "b-overlay.png"));
        Assert.Equal((40, 24), (overlay.Width, overlay.Height));
        Assert.Equal(40 * 24, IndexPng.Decode(File.ReadAllBytes(Path.Combine(outDir, "b.png")), "b.png", out _, out _).Length);
    }

    [Fact]
    public void InferWithCrfOnOneFileWritesValidLabels()
    {
        var t = RunWithCheckpoint(("eval.crf", "true"), ("eval.infer_scales", "1"));
        string input = Path.Combine(FsrEvalFixture.NewFolder(), "one.png"), outDir = FsrEvalFixture.NewFolder();
        var a = TrainingData.Open(t.Config, "val").Load(1).Image;
        File.WriteAllBytes(input, ImageCodec.EncodePngRgb(a.Pixels, a.Width, a.Height));
        var output = new StringWriter();
        Assert.Equal(TrainCommand.Done, InferCommand.Run(t.Config, t.Run, t.Checkpoint, "teacher", input, outDir, output, TextWriter.Null));
        Assert.Contains("CRF on", output.ToString());
        var labels = IndexPng.Decode(File.ReadAllBytes(Path.Combine(outDir, "one.png")), "one.png", out _, out _);
        Assert.All(labels, l => Assert.InRange(l, 0, 6));
    }

    [Fact]
    public void InferInputErrorsNameThePath()
    {
        var t = RunWithCheckpoint();
        string missing = Path.Combine(FsrEvalFixture.NewFolder(), "nope");
        var e1 = Assert.Throws<FileNotFoundException>(() => InferCommand.Run(t.Config, t.Run, null, "student", missing, missing + "-out", TextWriter.Null, TextWriter.Null));
        Assert.Contains($"--input {missing}: no such image or folder", e1.Message);

        string empty = FsrEvalFixture.NewFolder();
        File.WriteAllText(Path.Combine(empty, "readme.txt"), "");
        var e2 = Assert.Throws<ArgumentException>(() => InferCommand.ListImages(empty));
        Assert.Contains("holds no .jpg/.jpeg/.png image", e2.Message);

        File.WriteAllBytes(Path.Combine(empty, "x.jpg"), [1]);
        File.WriteAllBytes(Path.Combine(empty, "x.png"), [1]);
        var e3 = Assert.Throws<ArgumentException>(() => InferCommand.ListImages(empty));
        Assert.Contains("x.jpg and x.png would both be written as x.png", e3.Message);
    }
}
