using System.Globalization;
using System.Net;
using System.Text;
using FsrNative.Data;
using FsrNative.Eval;

namespace FsrNative.Reports;

/// <summary>What one run's report shows. Everything but the title is optional.</summary>
public sealed record RunReport
{
    public required string Title { get; init; }
    /// <summary>Settings and facts shown at the top (dataset, model, steps, device, date, …), in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Facts { get; init; } = [];
    /// <summary>A paragraph of plain text under the title.</summary>
    public string? Notes { get; init; }
    /// <summary>The evaluation: metrics table, threshold sweep, per-class IoU, gallery of its examples.</summary>
    public EvaluationResult? Evaluation { get; init; }
    /// <summary>The training log: one chart per group of names (losses, mIoU).</summary>
    public MetricLog? Log { get; init; }
    /// <summary>Which CAM set the gallery shows (default: the first).</summary>
    public string? GalleryCamSet { get; init; }
}

/// <summary>How <see cref="HtmlReport.Write"/> lays the files out.</summary>
public sealed record HtmlReportOptions
{
    /// <summary>Embed every picture as a data URI: one self-contained HTML file and nothing beside it. Otherwise the
    /// pictures go to <c>images/</c> and the label PNGs to <c>labels/</c> next to <c>index.html</c> (relative links).</summary>
    public bool EmbedImages { get; init; }
    /// <summary>Write RGB pictures as 256-colour PNGs (about half the size, for reports kept in git).</summary>
    public bool PalettePng { get; init; }
    public PanelStyle Panel { get; init; } = new();
    public int ChartWidth { get; init; } = Charts.DefaultWidth;
    public int ChartHeight { get; init; } = Charts.DefaultHeight;
    /// <summary>Gallery examples drawn per panel picture.</summary>
    public int RowsPerPanel { get; init; } = 1;
    /// <summary>Write each example's predictions as VOC-palette index PNGs under <c>labels/</c> (not with <see cref="EmbedImages"/>).</summary>
    public bool LabelPngs { get; init; } = true;
}

/// <summary>
/// One HTML report per run: the facts, the metrics table (per-class IoU of every score set, mIoU, pixel accuracy),
/// the CAM threshold sweep, the training curves, per-class IoU bars and a gallery of panels. Plain HTML and CSS,
/// no script, no external resource: open <c>index.html</c> in any browser, or copy the folder anywhere.
/// </summary>
public static class HtmlReport
{
    /// <summary>Writes the report into <paramref name="dir"/> (created if needed) and returns the path of its
    /// <c>index.html</c>. Files of an earlier report with the same names are overwritten.</summary>
    public static string Write(string dir, RunReport report, HtmlReportOptions? options = null)
    {
        var o = options ?? new HtmlReportOptions();
        Directory.CreateDirectory(dir);
        var pictures = new PictureSink(dir, o.EmbedImages);
        var html = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        var ev = report.Evaluation;

        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append("<title>").Append(E(report.Title)).Append("</title>\n<style>\n").Append(Css).Append("</style>\n</head>\n<body>\n");
        html.Append("<h1>").Append(E(report.Title)).Append("</h1>\n");
        if (report.Notes is not null) html.Append("<p class=\"notes\">").Append(E(report.Notes)).Append("</p>\n");

        // Headline numbers and facts.
        if (ev is not null)
        {
            html.Append("<div class=\"cards\">\n");
            foreach (var (name, s) in ev.ScoreSets())
                html.Append(inv, $"<div class=\"card\"><div class=\"big\">{Pct(s.MeanIoU)}</div><div>mIoU · {E(name)}</div><div class=\"small\">pixel acc. {Pct(s.PixelAccuracy)}</div></div>\n");
            html.Append("</div>\n");
        }
        var facts = report.Facts.ToList();
        if (ev is not null)
        {
            facts.Add(new("evaluated", string.Create(inv, $"{ev.Images} images of '{ev.Split}' ({ev.Classes.Name}: {ev.Classes.NumClasses} classes + background) in {ev.Elapsed.TotalSeconds:F1} s")));
        }
        if (facts.Count > 0)
        {
            html.Append("<table class=\"facts\">\n");
            foreach (var f in facts) html.Append("<tr><th>").Append(E(f.Key)).Append("</th><td>").Append(E(f.Value)).Append("</td></tr>\n");
            html.Append("</table>\n");
        }

        if (ev is not null) AppendMetrics(html, ev, pictures, o);

        if (report.Log is { } log && log.Entries.Count > 0)
        {
            html.Append("<h2>Training curves</h2>\n<div class=\"charts\">\n");
            foreach (var (group, _) in log.Groups())
            {
                string src = pictures.Add($"curve-{Slug(group)}.png", Charts.Group(log, group, o.ChartWidth, o.ChartHeight));
                html.Append("<img class=\"chart\" src=\"").Append(src).Append("\" alt=\"").Append(E(group)).Append(" curves\">\n");
            }
            html.Append("</div>\n");
        }

        if (ev is not null && ev.Examples.Count > 0) AppendGallery(html, report, ev, pictures, o);

        html.Append("<h2>How to read this report</h2>\n<ul class=\"notes\">\n")
            .Append("<li><b>IoU</b> of a class = TP / (TP + FP + FN) over every scored pixel of the split (one confusion matrix for the whole split, not a mean of per-image scores). Pixels whose ground truth is 255 (object boundaries, void) are not scored.</li>\n")
            .Append("<li><b>mIoU</b> = the mean IoU over the classes (background included) that occur in the ground truth of the split; a class that does not occur is shown in grey and left out of the mean, even if it was predicted.</li>\n")
            .Append("<li><b>Pixel accuracy</b> = correctly labelled pixels / scored pixels.</li>\n")
            .Append("<li><b>Pred.</b> is the segmentation decoder's argmax; <b>CAM @ t</b> is the CAM pseudo label: for the classes in the image's ground-truth labels, the highest normalised CAM value v and its class; class where v &gt; t, background elsewhere.</li>\n")
            .Append("<li>CAM pictures show v over the image in greyscale, coloured with viridis (dark purple 0 → yellow 1). Label colours are the PASCAL VOC colours; white marks ignored pixels.</li>\n")
            .Append("</ul>\n</body>\n</html>\n");

        string index = Path.Combine(dir, "index.html");
        File.WriteAllText(index, html.ToString());
        return index;
    }

    static void AppendMetrics(StringBuilder html, EvaluationResult ev, PictureSink pictures, HtmlReportOptions o)
    {
        var inv = CultureInfo.InvariantCulture;
        var sets = ev.ScoreSets().ToArray();
        if (sets.Length == 0) return;
        var first = sets[0].Scores;
        html.Append("<h2>Metrics</h2>\n<table class=\"metrics\">\n<thead><tr><th>class</th>");
        foreach (var (name, _) in sets) html.Append("<th>").Append(E(name)).Append("<br><span class=\"small\">IoU %</span></th>");
        html.Append("<th>ground-truth pixels</th></tr></thead>\n<tbody>\n");
        for (int c = 0; c < first.NumLabels; c++)
        {
            bool isPresent = first.Present[c];
            var col = Pictures.LabelColour(c);
            html.Append(isPresent ? "<tr>" : "<tr class=\"absent\" title=\"not in the ground truth: left out of the mean\">")
                .Append(inv, $"<td><span class=\"swatch\" style=\"background:#{col.R:x2}{col.G:x2}{col.B:x2}\"></span>{E(first.ClassNames[c])}{(isPresent ? "" : " <span class=\"small\">(absent)</span>")}</td>");
            foreach (var (_, s) in sets) html.Append("<td class=\"num\">").Append(Pct(s.IoU[c])).Append("</td>");
            html.Append(inv, $"<td class=\"num\">{first.TruthPixels[c]:N0}</td></tr>\n");
        }
        html.Append("</tbody>\n<tfoot>\n");
        Row("mIoU", s => Pct(s.MeanIoU), string.Create(inv, $"over {first.Present.Count(p => p)} present labels"));
        Row("pixel accuracy", s => Pct(s.PixelAccuracy), string.Create(inv, $"{first.Pixels:N0} scored, {first.IgnoredPixels:N0} ignored"));
        Row("mean class accuracy", s => Pct(s.MeanAccuracy), "");
        html.Append("</tfoot>\n</table>\n");

        void Row(string label, Func<SegmentationScores, string> value, string last)
        {
            html.Append("<tr><th>").Append(E(label)).Append("</th>");
            foreach (var (_, s) in sets) html.Append("<td class=\"num\">").Append(value(s)).Append("</td>");
            html.Append("<td class=\"num small\">").Append(E(last)).Append("</td></tr>\n");
        }

        var present = sets.Where(s => s.Scores.Present.Any(p => p)).ToArray();
        if (present.Length > 0)
        {
            string src = pictures.Add("iou-per-class.png", Charts.PerClassIoU(present, o.ChartWidth, o.ChartHeight));
            html.Append("<div class=\"charts\"><img class=\"chart\" src=\"").Append(src).Append("\" alt=\"IoU per class\">\n");
        }
        else html.Append("<div class=\"charts\">\n");

        var sweeps = ev.Cams.Where(c => c.Sweep.Count > 1).ToArray();
        if (sweeps.Length > 0)
        {
            string src = pictures.Add("cam-threshold-sweep.png", Charts.ThresholdSweep(sweeps, o.ChartWidth, o.ChartHeight));
            html.Append("<img class=\"chart\" src=\"").Append(src).Append("\" alt=\"CAM threshold sweep\">\n");
        }
        html.Append("</div>\n");
        if (sweeps.Length > 0)
        {
            html.Append("<h3>CAM background threshold sweep</h3>\n<table class=\"metrics\"><thead><tr><th>threshold</th>");
            foreach (var c in sweeps) html.Append("<th>").Append(E(c.Name)).Append(" mIoU %</th>");
            html.Append("</tr></thead><tbody>\n");
            foreach (var t in sweeps[0].Sweep.Select(p => p.Threshold))
            {
                html.Append(inv, $"<tr><td class=\"num\">{t:0.00}{(t == sweeps[0].Threshold ? " (main)" : "")}</td>");
                foreach (var c in sweeps)
                {
                    var p = c.Sweep.First(x => x.Threshold == t);
                    bool best = c.Best.Threshold == t;
                    html.Append("<td class=\"num\">").Append(best ? "<b>" : "").Append(Pct(p.Scores.MeanIoU)).Append(best ? "</b>" : "").Append("</td>");
                }
                html.Append("</tr>\n");
            }
            html.Append("</tbody></table>\n<p class=\"small\">Bold: the best threshold of each CAM set.</p>\n");
        }
    }

    static void AppendGallery(StringBuilder html, RunReport report, EvaluationResult ev, PictureSink pictures, HtmlReportOptions o)
    {
        html.Append("<h2>Gallery</h2>\n");
        var rows = ev.Examples.Select(x => (x, Panels.Row(x, ev.Classes, report.GalleryCamSet, ev.PostProcessorName))).ToArray();
        int per = Math.Max(1, o.RowsPerPanel);
        for (int i = 0; i < rows.Length; i += per)
        {
            var chunk = rows.Skip(i).Take(per).ToArray();
            string name = per == 1 ? $"panel-{Slug(chunk[0].x.Id)}.png" : $"panels-{i / per + 1:D2}.png";
            var png = Panels.RenderPng(chunk.Select(c => c.Item2).ToArray(), o.Panel, o.PalettePng);
            string src = pictures.Add(name, png);
            html.Append("<figure><img class=\"panel\" src=\"").Append(src).Append("\" alt=\"").Append(E(string.Join(", ", chunk.Select(c => c.x.Id)))).Append("\">");
            if (!o.EmbedImages && o.LabelPngs)
            {
                html.Append("<figcaption>label PNGs (VOC palette):");
                foreach (var (x, _) in chunk)
                {
                    foreach (var (what, labels) in LabelMaps(x, ev.PostProcessorName))
                    {
                        string file = pictures.AddLabel($"{Slug(x.Id)}-{Slug(what)}.png", Pictures.LabelPng(labels, x.Width, x.Height));
                        html.Append(" <a href=\"").Append(file).Append("\">").Append(E($"{x.Id} {what}")).Append("</a>");
                    }
                }
                html.Append("</figcaption>");
            }
            html.Append("</figure>\n");
        }
    }

    static IEnumerable<(string What, byte[] Labels)> LabelMaps(EvalExample x, string? post)
    {
        if (x.Prediction is not null) yield return ("prediction", x.Prediction);
        if (x.PostProcessed is not null) yield return ($"prediction {post ?? "post"}", x.PostProcessed);
        foreach (var c in x.Cams) yield return ($"{c.Name} pseudo", c.Labels);
    }

    static string Pct(double v) => double.IsNaN(v) ? "–" : (100 * v).ToString("F1", CultureInfo.InvariantCulture);

    static string E(string s) => WebUtility.HtmlEncode(s);

    /// <summary>A file-name-safe form of a name: letters, digits, '-', '_' and '.'; others become '-'.</summary>
    internal static string Slug(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char ch in s.Trim()) sb.Append(char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' or '.' ? char.ToLowerInvariant(ch) : '-');
        string r = sb.ToString().Trim('-', '.');
        return r.Length == 0 ? "x" : r;
    }

    /// <summary>Writes pictures next to the page (relative links) or turns them into data URIs.</summary>
    sealed class PictureSink(string dir, bool embed)
    {
        public string Add(string name, byte[] png) => Put("images", name, png);
        public string AddLabel(string name, byte[] png) => Put("labels", name, png);

        string Put(string folder, string name, byte[] png)
        {
            if (embed) return "data:image/png;base64," + Convert.ToBase64String(png);
            Directory.CreateDirectory(Path.Combine(dir, folder));
            File.WriteAllBytes(Path.Combine(dir, folder, name), png);
            return folder + "/" + Uri.EscapeDataString(name);
        }
    }

    const string Css = """
        body { font-family: "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; color: #202020; margin: 24px auto; max-width: 1280px; padding: 0 16px; line-height: 1.45; }
        h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
        .notes { color: #444; } .small { font-size: 0.85em; color: #666; }
        .cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
        .card { border: 1px solid #ccc; border-radius: 6px; padding: 10px 16px; min-width: 150px; background: #fafafa; }
        .card .big { font-size: 1.8em; font-weight: bold; }
        table { border-collapse: collapse; margin: 12px 0; }
        th, td { padding: 4px 10px; border-bottom: 1px solid #e4e4e4; text-align: left; }
        table.facts th { color: #555; font-weight: normal; }
        table.metrics thead th { background: #f0f0f0; vertical-align: bottom; }
        table.metrics tbody tr:nth-child(even) { background: #fafafa; }
        table.metrics tfoot th, table.metrics tfoot td { border-top: 2px solid #999; font-weight: bold; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        tr.absent td { color: #999; }
        .swatch { display: inline-block; width: 12px; height: 12px; border: 1px solid #888; margin-right: 8px; vertical-align: -1px; }
        .charts { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
        img.chart { flex: 1 1 520px; min-width: 0; max-width: 100%; height: auto; border: 1px solid #ddd; }
        figure { margin: 12px 0 20px 0; } img.panel { max-width: 100%; border: 1px solid #ddd; }
        figcaption { font-size: 0.85em; color: #555; } figcaption a { margin-left: 6px; }

        """;
}
