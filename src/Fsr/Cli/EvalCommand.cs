using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using FsrNative.Eval;
using FsrNative.Fsr.Training;
using FsrNative.Weights;

namespace FsrNative.Fsr.Cli;

/// <summary>
/// <c>fsr eval --run PATH|latest [--checkpoint FILE] [--model student|teacher] [--split NAME] [--crf]</c>: loads a run's
/// configuration and one network of a checkpoint (default: the student of the run's newest checkpoint) and scores it
/// on a split as the paper's numbers are made (fsr-spec §8.1: original size, eval.infer_scales with flips; §8.2 with
/// --crf: the dense CRF, scored beside the raw prediction; the main and aux CAMs in single-threshold mode at
/// cam.bkg_thre). Prints the per-class table and the trivial baselines, writes
/// <c>eval/eval-step-N-&lt;model&gt;[-crf].json</c> and an HTML report (<c>eval/report-step-N-&lt;model&gt;[-crf]/index.html</c>
/// or --report).
/// </summary>
public static class EvalCommand
{
    /// <summary>What <c>fsr eval</c> does beyond the configuration.</summary>
    public sealed record Options
    {
        /// <summary>student or teacher (fsr-spec §8.5: both are checkpointed; evaluate both).</summary>
        public string Model { get; init; } = FsrEvaluation.Student;
        /// <summary>Evaluate only the first N images of the split.</summary>
        public int? Limit { get; init; }
        /// <summary>The report's folder (null: eval/report-step-N-&lt;model&gt;[-crf] in the run folder).</summary>
        public string? ReportDir { get; init; }
        /// <summary>Gallery rows of the report.</summary>
        public int Examples { get; init; } = 6;
    }

    public static Command Create()
    {
        var shared = new ConfigOptions();
        var run = new Option<string>("--run") { Description = "the run to evaluate: a run folder, a checkpoint inside one, or latest (the newest under --out with a checkpoint)", DefaultValueFactory = _ => "latest", HelpName = "latest|DIR|CHECKPOINT" };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "the checkpoint file to evaluate (default: the run's newest)", HelpName = "FILE" };
        var model = new Option<string>("--model") { Description = "which network to evaluate (fsr-spec §8.5: both are checkpointed)", DefaultValueFactory = _ => FsrEvaluation.Student, HelpName = "student|teacher" };
        model.AcceptOnlyFromAmong(FsrEvaluation.Student, FsrEvaluation.Teacher);
        var split = new Option<string?>("--split") { Description = "split to evaluate (data.val_split, e.g. val, val_part)", HelpName = "NAME" };
        var crf = new Option<bool?>("--crf") { Description = "also score the dense-CRF post-processed prediction (fsr-spec §8.2; eval.crf)" };
        var limit = new Option<int?>("--limit") { Description = "evaluate only the first N images of the split", HelpName = "N" };
        var report = new Option<string?>("--report") { Description = "folder for the HTML report (default: eval/report-step-N-MODEL in the run folder)", HelpName = "DIR" };
        var examples = new Option<int>("--examples") { Description = "gallery rows in the report", DefaultValueFactory = _ => 6, HelpName = "N" };
        var cmd = new Command("eval", "score a trained run's network on a split (fsr-spec §8.1–8.2: multi-scale + flip, optional dense CRF; decoder and CAM mIoU) and write a report");
        foreach (var o in new Option[] { run, checkpoint, model, split, crf, limit, report, examples }) cmd.Options.Add(o);
        foreach (var (o, _) in shared.Named) cmd.Options.Add(o);
        cmd.Options.Add(shared.Set);
        cmd.SetAction(r => Cli.Guarded("eval", () =>
        {
            var overrides = shared.Overrides(r);
            if (r.GetValue(split) is string s) overrides.Add(new ConfigOverride("data.val_split", s, $"--split {s}"));
            if (r.GetValue(crf) is bool c) overrides.Add(new ConfigOverride("eval.crf", c ? "true" : "false", "--crf"));
            if (r.GetValue(limit) is int n && n < 1) throw new ArgumentException($"--limit {n}: must be at least 1");
            if (r.GetValue(examples) < 0) throw new ArgumentException($"--examples {r.GetValue(examples)}: must be 0 or more");
            string outRoot = overrides.LastOrDefault(o => o.Path == "run.out")?.Text ?? "runs";
            var (folder, file) = RunFolder.ForResume(r.GetValue(run)!, outRoot);
            file = r.GetValue(checkpoint) ?? file;
            var config = ConfigLoader.Load(null, folder.ConfigPath, overrides);
            return Run(config, folder, file, new Options
            {
                Model = r.GetValue(model)!, Limit = r.GetValue(limit), ReportDir = r.GetValue(report), Examples = r.GetValue(examples),
            }, Console.Out);
        }));
        return cmd;
    }

    /// <summary>Evaluates <paramref name="checkpoint"/> (null: the run's newest) as the class summary says; returns the exit code.</summary>
    public static int Run(FsrConfig config, RunFolder run, string? checkpoint, Options options, TextWriter output)
    {
        var inv = CultureInfo.InvariantCulture;
        string path = checkpoint ?? new CheckpointManager(run.CheckpointsPath, config.Run.KeepCheckpoints).List().LastOrDefault().path
            ?? throw new FileNotFoundException($"--run {run.Path}: the run has no checkpoint in {run.CheckpointsPath}");
        if (!File.Exists(path)) throw new FileNotFoundException($"--checkpoint {path}: no such file", path);
        var device = Device.Parse(config.Run.Device);
        var dataset = TrainingData.Open(config, config.Data.ValSplit, output);
        using var network = FsrEvaluation.LoadNetwork(config, path, options.Model, device, out long step);
        int total = Math.Min(dataset.Count, options.Limit ?? int.MaxValue);
        bool crf = config.Eval.Crf;
        output.WriteLine(string.Create(inv,
            $"evaluating the {options.Model} of {path} (step {step}) on {config.Data.Dataset} '{dataset.Split}' ({total} images), {device}: scales [{string.Join(", ", config.Eval.InferScales.Select(x => x.ToString("G3", inv)))}]{(config.Eval.Flip ? " with flips" : "")}, CRF {(crf ? "on" : "off")}"));

        var clock = Stopwatch.StartNew();
        int every = Math.Max(1, total / 10);
        var model = new FsrEvalModel(network);
        var result = Evaluator.Run(dataset, model, model, FsrEvaluation.Reported(config, device, crf) with
        {
            Limit = options.Limit, Examples = options.Examples,
            Progress = (done, all) =>
            {
                if (done % every == 0 || done == all)
                    output.WriteLine(string.Create(inv, $"  {done}/{all} images, {clock.Elapsed.TotalSeconds:F0} s{(done < all ? $", about {clock.Elapsed.TotalSeconds / done * (all - done):F0} s left" : "")}"));
            },
        });

        output.Write(EvaluationTable.Format(result));
        var truth = result.Prediction!;
        var background = TrivialBaselines.AllBackground(truth);
        var oneClass = TrivialBaselines.BestOneClass(truth);
        output.WriteLine(TrivialBaselines.Describe(background, oneClass));

        var scores = new JsonObject { ["seg_miou"] = truth.MeanIoU, ["seg_pixel_acc"] = truth.PixelAccuracy };
        if (result.PostProcessed is { } post) scores["seg_crf_miou"] = post.MeanIoU;
        scores["cam_miou"] = result.Cams[0].Scores.MeanIoU;
        scores["aux_cam_miou"] = result.Cams[1].Scores.MeanIoU;
        scores["baseline.background_miou"] = background.Scores.MeanIoU;
        scores["baseline.one_class_miou"] = oneClass.Scores.MeanIoU;
        string tag = string.Create(inv, $"step-{step:D9}-{options.Model}{(crf ? "-crf" : "")}");
        Directory.CreateDirectory(run.EvalPath);
        string json = Path.Combine(run.EvalPath, $"eval-{tag}.json");
        File.WriteAllText(json, new JsonObject
        {
            ["step"] = step, ["checkpoint"] = Path.GetFullPath(path), ["model"] = options.Model, ["split"] = dataset.Split, ["images"] = result.Images,
            ["scales"] = new JsonArray(config.Eval.InferScales.Select(x => (JsonNode)x).ToArray()), ["flip"] = config.Eval.Flip, ["crf"] = crf,
            ["scores"] = scores,
        }.ToJsonString(new() { WriteIndented = true }) + "\n");
        output.WriteLine($"scores: {json}");

        string reportDir = options.ReportDir ?? Path.Combine(run.EvalPath, $"report-{tag}");
        string index = FsrRunReport.Write(reportDir, $"FSR {options.Model}, step {step}, on '{dataset.Split}'", config, step, device, result,
            [
                new("checkpoint", Path.GetFullPath(path)),
                new("evaluation", string.Create(inv, $"fsr-spec §8.1{(crf ? " + §8.2 dense CRF" : "")}: original size, scales [{string.Join(", ", config.Eval.InferScales.Select(x => x.ToString("G3", inv)))}]{(config.Eval.Flip ? " with flips" : "")}; CAMs at bkg {config.Cam.BkgThre:G3} with the ground-truth image labels")),
                new("trivial baselines", string.Create(inv, $"{background.Name} {100 * background.Scores.MeanIoU:F2}, {oneClass.Name} {100 * oneClass.Scores.MeanIoU:F2} (mIoU %)")),
            ],
            metricsJsonl: run.MetricsPath);
        output.WriteLine($"report: {index}");
        return TrainCommand.Done;
    }
}
