using System.Globalization;
using FsrNative.Eval;

namespace FsrNative.Reports;

/// <summary>One line of a chart.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y);

/// <summary>
/// Charts as PNG through ScottPlot, with the embedded font (<see cref="ReportFonts"/>): loss and mIoU curves, the CAM
/// threshold sweep, per-class IoU bars. Colours are ScottPlot's Category10 palette (distinguishable lines, markers
/// where series are short).
/// </summary>
public static class Charts
{
    public const int DefaultWidth = 720, DefaultHeight = 400;

    /// <summary>A line chart of several series (markers when a series has at most 40 points).</summary>
    public static byte[] Lines(string title, string xLabel, string yLabel, IReadOnlyList<ChartSeries> series,
        int width = DefaultWidth, int height = DefaultHeight, (double Min, double Max)? yRange = null)
    {
        if (series.Count == 0) throw new ArgumentException($"chart '{title}': no series");
        var plot = NewPlot(title, xLabel, yLabel);
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < series.Count; i++)
        {
            var s = series[i];
            if (s.X.Count != s.Y.Count) throw new ArgumentException($"chart '{title}': series '{s.Name}' has {s.X.Count} x and {s.Y.Count} y values");
            var line = plot.Add.Scatter(s.X.ToArray(), s.Y.ToArray(), palette.GetColor(i));
            line.LegendText = s.Name;
            line.LineWidth = 2;
            line.MarkerSize = s.X.Count <= 40 ? 6 : 0;
        }
        if (yRange is { } r) plot.Axes.SetLimitsY(r.Min, r.Max);
        plot.ShowLegend(QuietCorner(series));
        return Png(plot, width, height);
    }

    /// <summary>The curves of one <see cref="MetricLog"/> group (e.g. "loss" or "miou"); mIoU values are plotted in percent.</summary>
    public static byte[] Group(MetricLog log, string group, int width = DefaultWidth, int height = DefaultHeight)
    {
        var names = log.Names.Where(n => MetricLog.GroupOf(n) == group).ToArray();
        if (names.Length == 0) throw new ArgumentException($"chart: the log has no series in group '{group}'");
        bool isIoU = group.Contains("iou", StringComparison.OrdinalIgnoreCase);
        var series = names.Select(n =>
        {
            var (x, y) = log.Series(n);
            return new ChartSeries(n.Length > group.Length + 1 ? n[(group.Length + 1)..] : n, x, isIoU ? y.Select(v => 100 * v).ToArray() : y);
        }).ToArray();
        string title = isIoU ? "mIoU during training" : group == "loss" ? "Training losses" : group;
        return Lines(title, "step", isIoU ? "mIoU (%)" : group, series, width, height);
    }

    /// <summary>mIoU of each CAM set against the background threshold, the main threshold marked.</summary>
    public static byte[] ThresholdSweep(IReadOnlyList<CamEvaluation> cams, int width = DefaultWidth, int height = DefaultHeight)
    {
        if (cams.Count == 0) throw new ArgumentException("threshold sweep chart: no CAM evaluation");
        var series = cams.Select(c => new ChartSeries(c.Name, c.Sweep.Select(p => (double)p.Threshold).ToArray(),
            c.Sweep.Select(p => 100 * p.Scores.MeanIoU).ToArray())).ToArray();
        var plot = NewPlot("CAM pseudo-label mIoU vs background threshold", "background threshold", "mIoU (%)");
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < series.Length; i++)
        {
            var line = plot.Add.Scatter(series[i].X.ToArray(), series[i].Y.ToArray(), palette.GetColor(i));
            line.LegendText = series[i].Name;
            line.LineWidth = 2;
            line.MarkerSize = 7;
        }
        var v = plot.Add.VerticalLine(cams[0].Threshold, 1.5f, ScottPlot.Colors.Gray, ScottPlot.LinePattern.Dashed);
        v.LegendText = string.Create(CultureInfo.InvariantCulture, $"main threshold {cams[0].Threshold:0.##}");
        plot.ShowLegend(QuietCorner(series));
        return Png(plot, width, height);
    }

    /// <summary>Per-class IoU bars of one or more score sets (classes absent from the ground truth left out).</summary>
    public static byte[] PerClassIoU(IReadOnlyList<(string Name, SegmentationScores Scores)> sets, int width = DefaultWidth, int height = DefaultHeight)
    {
        if (sets.Count == 0) throw new ArgumentException("per-class IoU chart: no score set");
        var first = sets[0].Scores;
        var classes = Enumerable.Range(0, first.NumLabels).Where(c => sets.Any(s => s.Scores.Present[c])).ToArray();
        var plot = NewPlot("IoU per class", "", "IoU (%)");
        var palette = new ScottPlot.Palettes.Category10();
        int n = sets.Count;
        double groupWidth = 0.8, barWidth = groupWidth / n;
        for (int s = 0; s < n; s++)
        {
            var bars = new List<ScottPlot.Bar>();
            for (int i = 0; i < classes.Length; i++)
            {
                double iou = sets[s].Scores.IoU[classes[i]];
                bars.Add(new ScottPlot.Bar
                {
                    Position = i - groupWidth / 2 + barWidth * (s + 0.5), Value = double.IsNaN(iou) ? 0 : 100 * iou,
                    Size = barWidth * 0.92, FillColor = palette.GetColor(s), LineWidth = 0,
                });
            }
            var plotted = plot.Add.Bars(bars);
            plotted.LegendText = sets[s].Name;
        }
        var ticks = classes.Select((c, i) => new ScottPlot.Tick(i, first.ClassNames[c])).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks);
        if (classes.Length > 8)
        {
            // Many classes (VOC: 21): tick labels slanted, each ending at its tick, and the axis made tall enough
            // for the longest (ScottPlot does not size the axis for rotated labels).
            var style = plot.Axes.Bottom.TickLabelStyle;
            style.Rotation = -45;
            style.Alignment = ScottPlot.Alignment.MiddleRight;
            using var measure = new SkiaSharp.SKFont(ReportFonts.Regular, style.FontSize);
            float longest = ticks.Max(t => measure.MeasureText(t.Label));
            plot.Axes.Bottom.MinimumSize = longest * MathF.Sqrt(0.5f) + style.FontSize + 12;
        }
        plot.Axes.SetLimitsY(0, 100);
        plot.Axes.SetLimitsX(-0.6, classes.Length - 0.4);
        // Bars reach any height, so the legend goes above the plot, never over a bar.
        if (n > 1) { plot.ShowLegend(ScottPlot.Edge.Top); plot.Legend.Orientation = ScottPlot.Orientation.Horizontal; }
        return Png(plot, width, height);
    }

    /// <summary>
    /// The corner for the legend where it hides the least: of the four corners, the one whose quarter of the data
    /// range (the outer 35% in x and 40% in y) holds the fewest points.
    /// </summary>
    internal static ScottPlot.Alignment QuietCorner(IReadOnlyList<ChartSeries> series)
    {
        var points = series.SelectMany(s => s.X.Zip(s.Y)).Where(p => double.IsFinite(p.First) && double.IsFinite(p.Second)).ToArray();
        if (points.Length == 0) return ScottPlot.Alignment.UpperRight;
        double x0 = points.Min(p => p.First), x1 = points.Max(p => p.First), y0 = points.Min(p => p.Second), y1 = points.Max(p => p.Second);
        double dx = Math.Max(x1 - x0, 1e-12), dy = Math.Max(y1 - y0, 1e-12);
        int Count(bool right, bool upper) => points.Count(p =>
            (right ? (p.First - x0) / dx >= 0.65 : (p.First - x0) / dx <= 0.35) && (upper ? (p.Second - y0) / dy >= 0.6 : (p.Second - y0) / dy <= 0.4));
        var corners = new (ScottPlot.Alignment a, int n)[]
        {
            (ScottPlot.Alignment.UpperRight, Count(true, true)), (ScottPlot.Alignment.LowerRight, Count(true, false)),
            (ScottPlot.Alignment.UpperLeft, Count(false, true)), (ScottPlot.Alignment.LowerLeft, Count(false, false)),
        };
        return corners.MinBy(c => c.n).a;
    }

    static ScottPlot.Plot NewPlot(string title, string xLabel, string yLabel)
    {
        ReportFonts.UseInScottPlot();
        var plot = new ScottPlot.Plot();
        plot.Title(title, 17);
        if (xLabel.Length > 0) plot.XLabel(xLabel, 14);
        plot.YLabel(yLabel, 14);
        plot.Font.Set(ReportFonts.Family);
        plot.Axes.Title.Label.Bold = true;
        plot.Legend.FontName = ReportFonts.Family;
        plot.Legend.FontSize = 13;
        return plot;
    }

    static byte[] Png(ScottPlot.Plot plot, int width, int height)
    {
        if (width < 100 || height < 100) throw new ArgumentException($"chart: {width}x{height} is too small");
        return plot.GetImageBytes(width, height, ScottPlot.ImageFormat.Png);
    }
}
