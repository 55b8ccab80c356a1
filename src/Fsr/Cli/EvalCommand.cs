using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using FsrNative.Fsr.Training;
using FsrNative.Weights;

namespace FsrNative.Fsr.Cli;

/// <summary>
/// <c>fsr eval --run PATH|latest [--checkpoint FILE]</c>: loads a run's configuration and checkpoint (default: its
/// newest good one) into the FSR step's modules and runs the validation of fsr-spec §8.3 (student and teacher) on
/// eval's split; prints the scores and writes <c>eval/eval-step-N.json</c> in the run folder.
/// </summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var shared = new ConfigOptions();
        var run = new Option<string>("--run") { Description = "the run to evaluate: a run folder, or latest (the newest under --out with a checkpoint)", DefaultValueFactory = _ => "latest", HelpName = "latest|DIR" };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "the checkpoint file to evaluate (default: the run's newest good one)", HelpName = "FILE" };
        var split = new Option<string?>("--split") { Description = "split to evaluate (data.val_split, e.g. val, val_part)", HelpName = "NAME" };
        var cmd = new Command("eval", "evaluate a trained run on the validation split (fsr-spec §8.3: decoder mIoU, CAM pseudo-label mIoU, for student and teacher)");
        cmd.Options.Add(run);
        cmd.Options.Add(checkpoint);
        cmd.Options.Add(split);
        foreach (var (o, _) in shared.Named) cmd.Options.Add(o);
        cmd.Options.Add(shared.Set);
        cmd.SetAction(r => Cli.Guarded("eval", () =>
        {
            var overrides = shared.Overrides(r);
            if (r.GetValue(split) is string s) overrides.Add(new ConfigOverride("data.val_split", s, $"--split {s}"));
            string outRoot = overrides.LastOrDefault(o => o.Path == "run.out")?.Text ?? "runs";
            var (folder, file) = RunFolder.ForResume(r.GetValue(run)!, outRoot);
            file = r.GetValue(checkpoint) ?? file;
            var config = ConfigLoader.Load(null, folder.ConfigPath, overrides);
            return Run(config, folder, file, TrainingComponents.StepFactory, TrainingComponents.EvaluatorFactory, Console.Out, Console.Error);
        }));
        return cmd;
    }

    public static int Run(FsrConfig config, RunFolder run, string? checkpoint,
        Func<FsrConfig, Device, IFsrTrainingStep>? stepFactory, Func<FsrConfig, Device, ITrainingEvaluator>? evaluatorFactory,
        TextWriter output, TextWriter error)
    {
        var manager = new CheckpointManager(run.CheckpointsPath, config.Run.KeepCheckpoints);
        string path = checkpoint ?? manager.List().LastOrDefault().path
            ?? throw new ConfigException([$"--run {run.Path}: the run has no checkpoint in {run.CheckpointsPath}"]);
        if (!File.Exists(path)) throw new ConfigException([$"--checkpoint {path}: the file does not exist"]);
        output.WriteLine($"evaluating {path} on {config.Data.Dataset} {config.Data.ValSplit}");
        if (stepFactory is null || evaluatorFactory is null)
        {
            error.WriteLine(TrainingComponents.MissingStep("eval"));
            return TrainCommand.MissingStep;
        }
        var device = Device.Parse(config.Run.Device);
        using var step = stepFactory(config, device);
        long at;
        using (torch.NewDisposeScope())
        {
            var state = Checkpoint.Load(path);
            state.Restore(models: step.Modules);
            at = state.Step;
        }
        var scores = evaluatorFactory(config, device).Evaluate(new EvaluationContext(at, true, step, config, run, device));
        var obj = new JsonObject();
        foreach (var (k, v) in scores)
        {
            obj[k] = MetricsLog.Number(v);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {k,-28} {v:F4}"));
        }
        Directory.CreateDirectory(run.EvalPath);
        string file = Path.Combine(run.EvalPath, string.Create(CultureInfo.InvariantCulture, $"eval-step-{at:D9}.json"));
        File.WriteAllText(file, new JsonObject { ["step"] = at, ["checkpoint"] = path, ["split"] = config.Data.ValSplit, ["scores"] = obj }.ToJsonString(new() { WriteIndented = true }) + "\n");
        output.WriteLine($"scores: {file}");
        return TrainCommand.Done;
    }
}
