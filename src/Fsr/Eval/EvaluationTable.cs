using System.Globalization;
using System.Text;

namespace FsrNative.Eval;

/// <summary>
/// An evaluation as a plain-text table for the console: one row per label with the IoU (percent) of every score set
/// (Pred., Pred. + CRF, each CAM set) — "absent" for labels not in the ground truth, which the mean leaves out —
/// then mIoU, pixel accuracy and mean class accuracy rows.
/// </summary>
public static class EvaluationTable
{
    public static string Format(EvaluationResult r)
    {
        var inv = CultureInfo.InvariantCulture;
        var sets = r.ScoreSets().ToArray();
        if (sets.Length == 0) return "(nothing was scored)\n";
        var first = sets[0].Scores;
        int w0 = Math.Max(20, first.ClassNames.Max(n => n.Length) + 2);
        int[] widths = sets.Select(s => Math.Max(9, s.Name.Length + 2)).ToArray();
        var sb = new StringBuilder();
        sb.Append("label".PadRight(w0));
        for (int s = 0; s < sets.Length; s++) sb.Append(sets[s].Name.PadLeft(widths[s]));
        sb.Append('\n');
        for (int c = 0; c < first.NumLabels; c++)
        {
            sb.Append(first.ClassNames[c].PadRight(w0));
            for (int s = 0; s < sets.Length; s++)
                sb.Append((first.Present[c] ? (100 * sets[s].Scores.IoU[c]).ToString("F2", inv) : "absent").PadLeft(widths[s]));
            sb.Append('\n');
        }
        Row("mIoU", x => x.MeanIoU);
        Row("pixel accuracy", x => x.PixelAccuracy);
        Row("mean class accuracy", x => x.MeanAccuracy);
        sb.Append(inv, $"({first.Present.Count(p => p)} labels present; {first.Pixels:N0} pixels scored, {first.IgnoredPixels:N0} ignored; values in %)\n");
        return sb.ToString();

        void Row(string name, Func<SegmentationScores, double> value)
        {
            sb.Append(name.PadRight(w0));
            for (int s = 0; s < sets.Length; s++) sb.Append((100 * value(sets[s].Scores)).ToString("F2", inv).PadLeft(widths[s]));
            sb.Append('\n');
        }
    }
}
