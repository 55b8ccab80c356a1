using System.Globalization;
using FsrNative.Eval;
using FsrNative.Reports;

namespace FsrNative.Fsr.Training;

/// <summary>
/// The HTML report of an FSR run (src/Fsr/Reports): the configuration's facts, the training curves of the run's
/// metrics.jsonl, the evaluation's metrics table, per-class IoU and CAM threshold charts, and a gallery of
/// image | ground truth | CAM | CAM pseudo label | prediction (| + CRF) panels, plus the scores of the other network
/// and the trivial baselines as facts.
/// </summary>
public static class FsrRunReport
{
    /// <summary>Writes the report into <paramref name="dir"/> and returns the path of its index.html.</summary>
    /// <param name="metricsJsonl">The run's metrics.jsonl (null or absent: no curves).</param>
    /// <param name="pendingScores">Scores of this evaluation that the trainer writes to the metrics log only after it
    /// returns (so the curves end at the current step).</param>
    public static string Write(string dir, string title, FsrConfig config, long step, Device device, EvaluationResult evaluation,
        IEnumerable<KeyValuePair<string, string>>? extraFacts = null, string? metricsJsonl = null,
        IReadOnlyDictionary<string, double>? pendingScores = null, string? notes = null)
    {
        var facts = FsrEvaluation.Facts(config, step, device);
        if (extraFacts is not null) facts.AddRange(extraFacts);
        MetricLog? log = null;
        if (metricsJsonl is not null && File.Exists(metricsJsonl))
        {
            log = RunMetrics.Load(metricsJsonl);
            if (pendingScores is not null) RunMetrics.AddScores(log, step, pendingScores.Select(kv => (kv.Key, (double?)kv.Value)));
        }
        return HtmlReport.Write(dir, new RunReport
        {
            Title = title, Facts = facts, Notes = notes, Evaluation = evaluation, Log = log, GalleryCamSet = FsrEvalModel.CamSetNames[0],
        });
    }

    /// <summary>"Pred. 41.20, CAM 55.10, aux CAM 50.02" (mIoU in percent) for a facts line.</summary>
    public static string Headline(EvaluationResult r) =>
        string.Join(", ", r.ScoreSets().Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Name} {100 * s.Scores.MeanIoU:F2}"))) + " (mIoU %)";
}
