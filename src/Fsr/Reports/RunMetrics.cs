using System.Text.Json;
using System.Text.Json.Nodes;

namespace FsrNative.Reports;

/// <summary>
/// A run's <c>metrics.jsonl</c> (src/Fsr/Training/MetricsLog) as the report's <see cref="MetricLog"/>: per step line
/// <c>loss/total</c> and <c>loss/&lt;term&gt;</c> (the unweighted terms), and per eval line one
/// <c>miou/&lt;score&gt;</c> for each score whose name ends in <c>_miou</c> (student, teacher, baselines; fractions —
/// the chart draws the miou group in percent). Non-finite values are left out; lines that are
/// not JSON (a line cut off by a crash) are skipped and counted.
/// </summary>
public static class RunMetrics
{
    public static MetricLog Load(string metricsJsonl) => Load(metricsJsonl, out _);

    public static MetricLog Load(string metricsJsonl, out int skippedLines)
    {
        if (!File.Exists(metricsJsonl)) throw new FileNotFoundException($"metrics log {metricsJsonl}: no such file", metricsJsonl);
        var log = new MetricLog();
        skippedLines = 0;
        // The trainer keeps the file open for appending while it evaluates: share it for writing.
        using var reader = new StreamReader(new FileStream(metricsJsonl, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        while (reader.ReadLine() is string line)
        {
            if (line.Length == 0) continue;
            JsonObject? o;
            try { o = JsonNode.Parse(line) as JsonObject; }
            catch (JsonException) { skippedLines++; continue; }
            if (o is null || o["step"] is not JsonValue stepValue || !stepValue.TryGetValue(out long step)) { skippedLines++; continue; }
            switch ((string?)o["event"])
            {
                case "step":
                    if (Number(o["total"]) is double total) log.Add(step, "loss/total", total);
                    if (o["loss"] is JsonObject terms)
                        foreach (var (k, v) in terms)
                            if (Number(v) is double x) log.Add(step, "loss/" + k, x);
                    break;
                case "eval":
                    if (o["scores"] is JsonObject scores) AddScores(log, step, scores.Select(kv => (kv.Key, Number(kv.Value))));
                    break;
            }
        }
        return log;
    }

    /// <summary>Adds the mIoU scores among <paramref name="scores"/> as <c>miou/&lt;name&gt;</c> (e.g. an evaluation not yet in the file).</summary>
    public static void AddScores(MetricLog log, long step, IEnumerable<(string Name, double? Value)> scores)
    {
        foreach (var (name, value) in scores)
            if (value is double x && name.EndsWith("_miou", StringComparison.Ordinal)) log.Add(step, "miou/" + name, x);
    }

    /// <summary>A finite number, or null (absent, not a number, or NaN/∞ — written as "NaN"/"Infinity" strings,
    /// which a chart cannot draw).</summary>
    static double? Number(JsonNode? node)
        => node is JsonValue v && v.TryGetValue(out double d) && double.IsFinite(d) ? d : null;
}
