using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using FsrNative.Data;
using FsrNative.Data.Transforms;
using FsrNative.Eval;
using FsrNative.Fsr.Training;
using FsrNative.Reports;
using FsrNative.Weights;

namespace FsrNative.Fsr.Cli;

/// <summary>
/// <c>fsr infer --run PATH|latest --input IMAGE|DIR --output DIR</c>: segmentation masks with a trained network
/// (fsr-spec §8.1: original size, eval.infer_scales with flips; §8.2 with --crf: the dense CRF). For each image
/// <c>NAME.jpg</c> it writes <c>NAME.png</c>, the labels as a VOC-palette index PNG (the format of VOC's own
/// SegmentationClass files), and <c>NAME-overlay.png</c>, the labels drawn over the image. An image that cannot be
/// read is reported (file and problem) and skipped; the exit code is then 2.
/// </summary>
public static class InferCommand
{
    /// <summary>The image files infer reads from a folder (not recursive).</summary>
    public static readonly string[] Extensions = [".jpg", ".jpeg", ".png"];

    public static Command Create()
    {
        var shared = new ConfigOptions();
        var run = new Option<string>("--run") { Description = "the trained run: a run folder, a checkpoint inside one, or latest (the newest under --out with a checkpoint)", DefaultValueFactory = _ => "latest", HelpName = "latest|DIR|CHECKPOINT" };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "the checkpoint file (default: the run's newest)", HelpName = "FILE" };
        var model = new Option<string>("--model") { Description = "which network predicts: student or teacher (both are checkpointed; fsr-spec §8.5)", DefaultValueFactory = _ => FsrEvaluation.Student, HelpName = "student|teacher" };
        model.AcceptOnlyFromAmong(FsrEvaluation.Student, FsrEvaluation.Teacher);
        var input = new Option<string>("--input") { Description = "an image file, or a folder of .jpg/.jpeg/.png images", Required = true, HelpName = "IMAGE|DIR" };
        var output = new Option<string>("--output") { Description = "folder for the predicted masks (NAME.png, VOC palette) and overlays (NAME-overlay.png)", Required = true, HelpName = "DIR" };
        var crf = new Option<bool?>("--crf") { Description = "dense CRF post-processing (fsr-spec §8.2; eval.crf; the voc and coco presets turn it on)" };
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
            return Run(config, folder, r.GetValue(checkpoint) ?? file, r.GetValue(model)!, r.GetValue(input)!, r.GetValue(output)!, Console.Out, Console.Error);
        }));
        return cmd;
    }

    /// <summary>The images named by <paramref name="input"/>: the file itself, or the folder's image files in name order.</summary>
    public static IReadOnlyList<string> ListImages(string input)
    {
        if (File.Exists(input)) return [input];
        if (!Directory.Exists(input)) throw new FileNotFoundException($"--input {input}: no such image or folder", input);
        var files = Directory.EnumerateFiles(input)
            .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new ArgumentException($"--input {input}: the folder holds no {string.Join("/", Extensions)} image");
        var clash = files.GroupBy(f => Path.GetFileNameWithoutExtension(f), StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null)
            throw new ArgumentException($"--input {input}: {string.Join(" and ", clash.Select(Path.GetFileName))} would both be written as {clash.Key}.png; move one of them");
        return files;
    }

    /// <summary>Predicts every image of <paramref name="input"/> with the <paramref name="model"/> network of
    /// <paramref name="checkpoint"/> (null: the run's newest); returns the exit code (2 when an image was skipped).</summary>
    public static int Run(FsrConfig config, RunFolder run, string? checkpoint, string model, string input, string outputDir, TextWriter output, TextWriter error)
    {
        var inv = CultureInfo.InvariantCulture;
        var images = ListImages(input);
        string path = checkpoint ?? new CheckpointManager(run.CheckpointsPath, config.Run.KeepCheckpoints).List().LastOrDefault().path
            ?? throw new FileNotFoundException($"--run {run.Path}: the run has no checkpoint in {run.CheckpointsPath}");
        var device = Device.Parse(config.Run.Device);
        using var network = FsrEvaluation.LoadNetwork(config, path, model, device, out long step);
        var segOptions = FsrEvaluation.SegmentationOptions(config);
        var crf = config.Eval.Crf ? FsrEvaluation.CrfParameters(config.Eval) : null;
        var names = ClassNames(config);
        Directory.CreateDirectory(outputDir);
        output.WriteLine(string.Create(inv,
            $"{images.Count} image(s) → {Path.GetFullPath(outputDir)}: the {model} of {path} (step {step}), {device}, scales [{string.Join(", ", segOptions.Scales.Select(s => s.ToString("G3", inv)))}]{(segOptions.Flip ? " with flips" : "")}, CRF {(crf is null ? "off" : "on")}"));

        var fsrModel = new FsrEvalModel(network);
        int failed = 0;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < images.Count; i++)
        {
            string file = images[i];
            RgbImage image;
            try
            {
                image = ImageCodec.LoadRgb(file);
            }
            catch (Exception e) when (e is DataException or IOException or UnauthorizedAccessException)
            {
                error.WriteLine($"fsr infer: {file}: {e.Message}; skipped");
                failed++;
                continue;
            }
            byte[] labels = Predict(fsrModel, image, segOptions, crf, device);
            string stem = Path.Combine(outputDir, Path.GetFileNameWithoutExtension(file));
            File.WriteAllBytes(stem + ".png", IndexPng.Encode(labels, image.Width, image.Height, ClassSet.VocPalette));
            File.WriteAllBytes(stem + "-overlay.png", Pictures.Png(Pictures.LabelOverlay(image, labels)));
            var present = labels.Distinct().Order().Select(l => l < names.Count ? names[l] : l.ToString(inv));
            output.WriteLine(string.Create(inv, $"  [{i + 1}/{images.Count}] {Path.GetFileName(file)} {image.Width}x{image.Height}: {string.Join(", ", present)} ({clock.Elapsed.TotalSeconds:F1} s)"));
        }
        if (failed > 0)
        {
            error.WriteLine($"fsr infer: {failed} of {images.Count} image(s) could not be read (above); the others were written");
            return TrainCommand.BadInput;
        }
        return TrainCommand.Done;
    }

    /// <summary>The label map (H·W bytes) of one image: normalised as in training, multi-scale + flip logits at the
    /// image's size (§8.1), argmax — or, with <paramref name="crf"/>, the dense CRF's labels of softmax(logits) (§8.2).</summary>
    public static byte[] Predict(ISegmentationModel model, RgbImage image, SegInferenceOptions options, Crf.DenseCrfParams? crf, Device device)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var pixels = ImageF.FromRgb(image);
        var normalised = new float[pixels.Data.Length];
        Photometric.Normalize(pixels, normalised, Photometric.ImageNetMean, Photometric.ImageNetStd);
        var x = torch.tensor(normalised, 1, 3, image.Height, image.Width).to(device);
        var logits = SegmentationInference.Logits(model, x, image.Height, image.Width, options);
        if (crf is not null) return DenseCrfPostProcessor.Labels(image, logits.softmax(1).select(0, 0), crf);
        var argmax = logits.argmax(1).ToIntArray();
        var labels = new byte[argmax.Length];
        for (int i = 0; i < labels.Length; i++) labels[i] = (byte)argmax[i];
        return labels;
    }

    /// <summary>Label names of the configured dataset (for the progress lines).</summary>
    static IReadOnlyList<string> ClassNames(FsrConfig c) => c.Data.Dataset switch
    {
        "synthetic" => Data.Synthetic.SyntheticDataset.Classes.Names,
        "voc" => ClassSet.Voc.Names,
        "coco" => ClassSet.Coco.Names,
        _ => [],
    };
}
