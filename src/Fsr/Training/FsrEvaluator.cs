using System.Globalization;
using FsrNative.Data;
using FsrNative.Eval;
using FsrNative.Model;

namespace FsrNative.Fsr.Training;

/// <summary>Options of an <see cref="FsrEvaluator"/> beyond the configuration.</summary>
public sealed record FsrEvaluatorOptions
{
    /// <summary>Where the per-network score lines, the baselines, the final table and the report's path are printed
    /// (null: where the trainer writes, <see cref="EvaluationContext.Output"/>, else the console).</summary>
    public TextWriter? Output { get; init; }
    /// <summary>The validation split (null: data.val_split of the configuration, opened at the first evaluation).</summary>
    public SegmentationDataset? Dataset { get; init; }
    /// <summary>Evaluate only the first N images of the split.</summary>
    public int? Limit { get; init; }
    /// <summary>Gallery rows of the final report (the first images of the split).</summary>
    public int Examples { get; init; } = 6;
    /// <summary>Write the HTML report at the final evaluation.</summary>
    public bool WriteReport { get; init; } = true;
}

/// <summary>
/// The in-training validation of fsr-spec §8.3 behind the <see cref="Trainer"/>'s evaluation hook: on data.val_split,
/// the student and (when the step has one) the teacher, each in evaluation mode for the pass, images resized to
/// data.input_size; the decoder's argmax ("Pred.") and the main and aux CAMs in single-threshold mode at
/// cam.bkg_thre with the ground-truth image labels ("Pseu."), scored by mIoU over the present labels (§8.4). Returns,
/// for the metrics log and eval/step-N.json: <c>student.seg_miou</c>, <c>student.cam_miou</c>,
/// <c>student.aux_cam_miou</c>, the same for <c>teacher.</c>, and the trivial baselines of the split
/// <c>baseline.background_miou</c> (all background) and <c>baseline.one_class_miou</c> (the best single class
/// everywhere), so every eval line shows what the model must beat. At the final evaluation it also prints the student's
/// per-class table (as <c>fsr eval</c> does) and writes the run's HTML report to <c>&lt;run&gt;/report/index.html</c> (<see cref="ReportPath"/>) and prints its path.
/// </summary>
public sealed class FsrEvaluator : ITrainingEvaluator
{
    /// <summary>The report's folder inside the run folder.</summary>
    public const string ReportFolder = "report";

    readonly FsrConfig _config;
    readonly Device _device;
    readonly FsrEvaluatorOptions _o;
    SegmentationDataset? _dataset;
    (TrivialBaseline Background, TrivialBaseline OneClass)? _baselines;

    public FsrEvaluator(FsrConfig config, Device device, FsrEvaluatorOptions? options = null)
    {
        _config = config;
        _device = device;
        _o = options ?? new FsrEvaluatorOptions();
        _dataset = _o.Dataset;
    }

    /// <summary>The report written at the final evaluation (null before it).</summary>
    public string? ReportPath { get; private set; }

    /// <summary>The last evaluation of each network, by module name ("student", "teacher").</summary>
    public IReadOnlyDictionary<string, EvaluationResult> LastResults { get; private set; } = new Dictionary<string, EvaluationResult>();

    /// <summary>The split's trivial baselines (after the first evaluation).</summary>
    public (TrivialBaseline Background, TrivialBaseline OneClass)? Baselines => _baselines;

    public IReadOnlyDictionary<string, double> Evaluate(EvaluationContext context)
    {
        var Output = _o.Output ?? context.Output ?? Console.Out;
        var dataset = _dataset ??= TrainingData.Open(_config, _config.Data.ValSplit, Output);
        var scores = new Dictionary<string, double>();
        var results = new Dictionary<string, EvaluationResult>();
        foreach (var name in new[] { FsrEvaluation.Student, FsrEvaluation.Teacher })
        {
            if (!context.TrainingStep.Modules.TryGetValue(name, out var module))
            {
                if (name == FsrEvaluation.Student)
                    throw new InvalidOperationException($"FsrEvaluator: the training step has no '{name}' module (it has: {string.Join(", ", context.TrainingStep.Modules.Keys)})");
                continue;
            }
            var network = module as WsssNetwork
                ?? throw new InvalidOperationException($"FsrEvaluator: the training step's '{name}' module is a {module.GetType().Name}, not a WsssNetwork");
            var options = FsrEvaluation.Validation(_config, context.Device) with
            {
                Limit = _o.Limit,
                Examples = context.Final && _o.WriteReport && name == FsrEvaluation.Student ? _o.Examples : 0,
            };
            var model = new FsrEvalModel(network);
            EvaluationResult r;
            using (model.Evaluating())
                r = Evaluator.Run(dataset, model, model, options);
            results[name] = r;
            scores[$"{name}.seg_miou"] = r.Prediction!.MeanIoU;
            scores[$"{name}.cam_miou"] = r.Cams[0].Scores.MeanIoU;
            scores[$"{name}.aux_cam_miou"] = r.Cams[1].Scores.MeanIoU;
            Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"validation, step {context.Step}, {name}: {FsrRunReport.Headline(r)} on {r.Images} images of '{r.Split}' in {r.Elapsed.TotalSeconds:F1} s"));
        }
        bool first = _baselines is null;
        var truth = results[FsrEvaluation.Student].Prediction!;
        _baselines ??= (TrivialBaselines.AllBackground(truth), TrivialBaselines.BestOneClass(truth));
        var (background, oneClass) = _baselines.Value;
        scores["baseline.background_miou"] = background.Scores.MeanIoU;
        scores["baseline.one_class_miou"] = oneClass.Scores.MeanIoU;
        if (context.Final) Output.Write(EvaluationTable.Format(results[FsrEvaluation.Student]));   // the student's per-class table
        if (first || context.Final) Output.WriteLine(TrivialBaselines.Describe(background, oneClass));
        LastResults = results;

        if (context.Final && _o.WriteReport)
        {
            var extra = new List<KeyValuePair<string, string>>
            {
                new("student (shown)", FsrRunReport.Headline(results[FsrEvaluation.Student])),
            };
            if (results.TryGetValue(FsrEvaluation.Teacher, out var teacher)) extra.Add(new("teacher", FsrRunReport.Headline(teacher)));
            extra.Add(new("trivial baselines", string.Create(CultureInfo.InvariantCulture,
                $"{background.Name} {100 * background.Scores.MeanIoU:F2}, {oneClass.Name} {100 * oneClass.Scores.MeanIoU:F2} (mIoU %)")));
            extra.Add(new("evaluation", string.Create(CultureInfo.InvariantCulture,
                $"fsr-spec §8.3: images resized to {_config.Data.InputSize} px, single decoder pass, CAMs at bkg {_config.Cam.BkgThre:G3} with the ground-truth image labels")));
            ReportPath = FsrRunReport.Write(Path.Combine(context.Run.Path, ReportFolder), $"FSR run {context.Run.Name} — step {context.Step}",
                _config, context.Step, context.Device, results[FsrEvaluation.Student], extra, context.Run.MetricsPath, scores);
            Output.WriteLine($"report: {ReportPath}");
        }
        return scores;
    }
}
