using System.CommandLine;
using FsrNative.Fsr.Training;

namespace FsrNative.Fsr.Cli;

/// <summary>
/// <c>fsr infer --run PATH|latest --input IMAGE|DIR --output DIR</c>: segmentation masks with the trained decoder
/// (fsr-spec §8.1: scales eval.infer_scales with flips, optional dense CRF §8.2). Needs the FSR network's inference
/// path, which arrives with src/Fsr/Model; until it is wired the verb checks its inputs and says so.
/// </summary>
public static class InferCommand
{
    public static Command Create()
    {
        var shared = new ConfigOptions();
        var run = new Option<string>("--run") { Description = "the trained run: a run folder, or latest (the newest under --out with a checkpoint)", DefaultValueFactory = _ => "latest", HelpName = "latest|DIR" };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "the checkpoint file (default: the run's newest good one)", HelpName = "FILE" };
        var model = new Option<string>("--model") { Description = "which network predicts: student or teacher (both are checkpointed; fsr-spec §8.5)", DefaultValueFactory = _ => "student", HelpName = "student|teacher" };
        model.AcceptOnlyFromAmong("student", "teacher");
        var input = new Option<string>("--input") { Description = "an image file, or a folder of .jpg/.png images", Required = true, HelpName = "IMAGE|DIR" };
        var output = new Option<string>("--output") { Description = "folder for the predicted masks (index PNGs with the VOC palette)", Required = true, HelpName = "DIR" };
        var crf = new Option<bool?>("--crf") { Description = "dense CRF post-processing (eval.crf; the voc and coco presets turn it on)" };
        var cmd = new Command("infer", "predict segmentation masks with a trained run (fsr-spec §8.1–8.2: multi-scale + flip, optional dense CRF)");
        foreach (var o in new Option[] { run, checkpoint, model, input, output, crf }) cmd.Options.Add(o);
        foreach (var (o, _) in shared.Named) cmd.Options.Add(o);
        cmd.Options.Add(shared.Set);
        cmd.SetAction(r => Cli.Guarded("infer", () =>
        {
            var overrides = shared.Overrides(r);
            if (r.GetValue(crf) is bool c) overrides.Add(new ConfigOverride("eval.crf", c ? "true" : "false", "--crf"));
            string outRoot = overrides.LastOrDefault(o => o.Path == "run.out")?.Text ?? "runs";
            var (folder, file) = RunFolder.ForResume(r.GetValue(run)!, outRoot);
            var config = ConfigLoader.Load(null, folder.ConfigPath, overrides);
            string src = r.GetValue(input)!;
            if (!File.Exists(src) && !Directory.Exists(src)) throw new ConfigException([$"--input {src}: no such image or folder"]);
            Console.WriteLine($"run {folder.Path}, checkpoint {r.GetValue(checkpoint) ?? file ?? "(newest)"}, {r.GetValue(model)}, scales [{string.Join(", ", config.Eval.InferScales)}], crf {config.Eval.Crf}");
            Console.Error.WriteLine(TrainingComponents.MissingStep("infer"));
            return TrainCommand.MissingStep;
        }));
        return cmd;
    }
}
