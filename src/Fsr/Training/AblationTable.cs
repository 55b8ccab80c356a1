using System.Globalization;
using System.Text;

namespace FsrNative.Fsr.Training;

/// <summary>One finished (or failed) run of an ablation: its variant, seed, exit code and last validation scores
/// (null when it never validated).</summary>
public sealed record AblationRun(string Variant, ulong Seed, int ExitCode, IReadOnlyDictionary<string, double>? Scores);

/// <summary>A variant's scores over its seeds: mean and sample standard deviation (n − 1; 0 for one run) per metric,
/// and how many runs gave scores.</summary>
public sealed record AblationRow(string Variant, int Runs, IReadOnlyDictionary<string, (double Mean, double Std)> Scores);

/// <summary>
/// The table <c>fsr ablate</c> prints at the end, like the paper's Table 4 (fsr-spec §11): one row per variant, each
/// metric as mean ± standard deviation over the seeds, in percent.
/// </summary>
public static class AblationTable
{
    /// <summary>The metrics shown, with their column titles: the student's CAM pseudo-label mIoU (Table 4's measure),
    /// its aux CAM, and the decoder's prediction (spec §8.3).</summary>
    public static IReadOnlyList<(string Key, string Title)> Columns { get; } =
    [
        ("student.cam_miou", "CAM mIoU"), ("student.aux_cam_miou", "aux CAM mIoU"), ("student.seg_miou", "decoder mIoU"),
    ];

    /// <summary>Groups the runs by variant (first-seen order) and averages each metric over the runs that have it.</summary>
    public static IReadOnlyList<AblationRow> Aggregate(IEnumerable<AblationRun> runs)
    {
        var rows = new List<AblationRow>();
        foreach (var group in runs.GroupBy(r => r.Variant))
        {
            var scored = group.Where(r => r.Scores is not null).ToList();
            var stats = new Dictionary<string, (double, double)>();
            foreach (var key in scored.SelectMany(r => r.Scores!.Keys).Distinct())
            {
                var values = scored.Where(r => r.Scores!.ContainsKey(key)).Select(r => r.Scores![key]).ToList();
                stats[key] = MeanStd(values);
            }
            rows.Add(new AblationRow(group.Key, scored.Count, stats));
        }
        return rows;
    }

    /// <summary>Mean and sample standard deviation (Bessel's n − 1; 0 for a single value).</summary>
    public static (double Mean, double Std) MeanStd(IReadOnlyList<double> values)
    {
        if (values.Count == 0) return (double.NaN, double.NaN);
        double mean = values.Average();
        if (values.Count == 1) return (mean, 0);
        double ss = values.Sum(v => (v - mean) * (v - mean));
        return (mean, Math.Sqrt(ss / (values.Count - 1)));
    }

    /// <summary>The table as text: variant, runs, then each column as "mean ± std" in percent.</summary>
    public static string Format(string study, IReadOnlyList<AblationRow> rows, IReadOnlyList<ulong> seeds)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(string.Create(inv, $"ablation {study}: mean ± std over seeds {string.Join(", ", seeds)} (validation mIoU, %)"));
        int nameWidth = Math.Max(8, rows.Count == 0 ? 0 : rows.Max(r => r.Variant.Length));
        sb.Append("variant".PadRight(nameWidth)).Append("  runs");
        foreach (var (_, title) in Columns) sb.Append("  ").Append(title.PadLeft(15));
        sb.AppendLine();
        foreach (var row in rows)
        {
            sb.Append(row.Variant.PadRight(nameWidth)).Append(row.Runs.ToString(inv).PadLeft(6));
            foreach (var (key, _) in Columns)
            {
                string cell = row.Scores.TryGetValue(key, out var s)
                    ? string.Create(inv, $"{100 * s.Mean:F2} ± {100 * s.Std:F2}")
                    : "—";
                sb.Append("  ").Append(cell.PadLeft(15));
            }
            sb.AppendLine();
        }
        return sb.ToString();
    }
}
