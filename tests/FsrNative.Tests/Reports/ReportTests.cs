using System.Text.RegularExpressions;
using FsrNative.Data;
using FsrNative.Data.Synthetic;
using FsrNative.Eval;
using FsrNative.Reports;
using FsrNative.Tests.Data;
using FsrNative.Tests.Eval;

namespace FsrNative.Tests.Reports;

/// <summary>Pictures, panels, charts and the HTML report. Text must render from the embedded font (a fresh Debian 12
/// has no system fonts, and Skia then draws no text at all).</summary>
[Trait("Category", EvalCategory.Name)]
public class ReportTests
{
    /// <summary>Pixels darker than <paramref name="limit"/> in every channel inside rows [y0, y1).</summary>
    static int DarkPixels(RgbImage img, int y0, int y1, int limit = 110)
    {
        int n = 0;
        for (int y = y0; y < Math.Min(y1, img.Height); y++)
            for (int x = 0; x < img.Width; x++)
                if (img[x, y, 0] < limit && img[x, y, 1] < limit && img[x, y, 2] < limit) n++;
        return n;
    }

    static int PixelsOf(RgbImage img, Rgb c)
    {
        int n = 0;
        for (int i = 0; i < img.Width * img.Height; i++)
            if (img.Pixels[3 * i] == c.R && img.Pixels[3 * i + 1] == c.G && img.Pixels[3 * i + 2] == c.B) n++;
        return n;
    }

    [Fact]
    public void TheEmbeddedFontIsUsedByPanelsAndByScottPlot()
    {
        var regular = ReportFonts.Regular;
        Assert.Equal("DejaVu Sans", regular.FamilyName);
        // The subset has a few hundred glyphs (a system DejaVu Sans has about 6,000): this is ours.
        Assert.InRange(regular.GlyphCount, 200, 1000);
        Assert.True(ReportFonts.Bold.IsBold);
        ReportFonts.UseInScottPlot();
        var viaScottPlot = ScottPlot.Fonts.GetTypeface(ReportFonts.Family, bold: false, italic: false);
        Assert.Equal(regular.GlyphCount, viaScottPlot.GlyphCount);
        // Every character the reports write has a glyph.
        using var font = new SkiaSharp.SKFont(regular, 12);
        foreach (char ch in "IoU mIoU % – — · × ≥ ≤ → … σ μ éü")
            if (ch != ' ') Assert.NotEqual((ushort)0, font.GetGlyph(ch));
    }

    [Fact]
    public void ChartsRenderTheirTitleAndLines()
    {
        var log = new MetricLog();
        for (int s = 1; s <= 50; s++) { log.Add(s, "loss/total", 2.0 / s); log.Add(s, "loss/seg", 1.0 / s); }
        log.Add(25, "miou/Pred.", 0.4); log.Add(50, "miou/Pred.", 0.55);
        var png = Charts.Group(log, "loss", 600, 360);
        var img = ImageCodec.DecodeRgb(png, "chart.png");
        Assert.Equal((600, 360), (img.Width, img.Height));
        Assert.True(DarkPixels(img, 0, 30) > 100, "the title row has no text");
        Assert.True(DarkPixels(img, 330, 360) > 50, "the x label row has no text");
        // Category10's first two colours draw the two series.
        Assert.True(PixelsOf(img, new Rgb(0x1f, 0x77, 0xb4)) > 100);
        Assert.True(PixelsOf(img, new Rgb(0xff, 0x7f, 0x0e)) > 100);
        Assert.Equal(["loss", "miou"], log.Groups().Select(g => g.Group));
        Assert.Throws<ArgumentException>(() => Charts.Group(log, "nothing"));
    }

    [Fact]
    public void LegendsGoWhereTheyHideNoData()
    {
        // A rising curve (a mIoU curve) fills the lower left and the upper right: the legend goes elsewhere.
        var rising = new ChartSeries("mIoU", [.. Enumerable.Range(0, 20).Select(i => (double)i)], [.. Enumerable.Range(0, 20).Select(i => (double)i)]);
        Assert.Contains(Charts.QuietCorner([rising]), new[] { ScottPlot.Alignment.UpperLeft, ScottPlot.Alignment.LowerRight });
        // A falling curve (a loss) fills the upper left and the lower right.
        var falling = rising with { Y = [.. rising.Y.Reverse()] };
        Assert.Contains(Charts.QuietCorner([falling]), new[] { ScottPlot.Alignment.UpperRight, ScottPlot.Alignment.LowerLeft });

        // Per-class bars reach any height: with 21 classes and several score sets the legend sits above the plot, and
        // the slanted class names are drawn whole (dark text in the bottom rows, nothing cut at the bottom edge).
        var matrices = Enumerable.Range(0, 3).Select(_ => new ConfusionMatrix(21)).ToArray();
        var truth = Enumerable.Range(0, 2100).Select(i => (byte)(i % 21)).ToArray();
        foreach (var m in matrices) m.Add(truth, truth);
        var sets = matrices.Select((m, i) => ($"set {i}", m.Scores(ClassSet.Voc.Names))).ToArray();
        var img = ImageCodec.DecodeRgb(Charts.PerClassIoU(sets, 720, 400), "bars.png");
        // The topmost pixels of the first set's colour are the legend's swatch, not the top of a bar (a column of it).
        var first = new Rgb(0x1f, 0x77, 0xb4);
        bool Is(int x, int y) => img[x, y, 0] == first.R && img[x, y, 1] == first.G && img[x, y, 2] == first.B;
        int top = Enumerable.Range(0, img.Height).First(y => Enumerable.Range(0, img.Width).Any(x => Is(x, y)));
        Assert.InRange(top, 25, 90);
        Assert.DoesNotContain(Enumerable.Range(0, img.Width), x => Is(x, top) && Is(x, top + 40));
        Assert.True(DarkPixels(img, 330, 392) > 300, "the slanted class names are missing");
        Assert.True(DarkPixels(img, 396, 400) < 10, "text runs into the bottom edge");
    }

    [Fact]
    public void LabelPngsKeepLabelsAndTheVocPalette()
    {
        byte[] labels = [0, 1, 2, 15, 255, 20];
        var png = Pictures.LabelPng(labels, 3, 2);
        Assert.Equal(labels, IndexPng.Decode(png, "x.png", out int w, out int h));
        Assert.Equal((3, 2), (w, h));
        // Colour-mapped decoding (as a viewer would show it) gives the VOC colours: 1 = (128, 0, 0), 15 = person (192, 128, 128).
        var pic = Pictures.Labels(labels, 3, 2);
        Assert.Equal((128, 0, 0), (pic[1, 0, 0], pic[1, 0, 1], pic[1, 0, 2]));
        Assert.Equal((192, 128, 128), (pic[0, 1, 0], pic[0, 1, 1], pic[0, 1, 2]));
        Assert.Equal((255, 255, 255), (pic[1, 1, 0], pic[1, 1, 1], pic[1, 1, 2]));   // ignore drawn white
    }

    [Fact]
    public void ViridisRunsFromPurpleToYellowAndOverlaysBlend()
    {
        var lo = Colormap.Viridis(0f);
        var hi = Colormap.Viridis(1f);
        Assert.InRange(lo.R, 60, 75); Assert.InRange(lo.G, 0, 8); Assert.InRange(lo.B, 78, 90);      // #440154
        Assert.InRange(hi.R, 245, 255); Assert.InRange(hi.G, 225, 236); Assert.InRange(hi.B, 25, 45); // #fde725
        Assert.Equal(lo, Colormap.Viridis(float.NaN));
        Assert.Equal(hi, Colormap.Viridis(3f));
        // Perceptually ordered: luminance increases along the map.
        double Lum(Rgb c) => 0.2126 * c.R + 0.7152 * c.G + 0.0722 * c.B;
        for (int i = 1; i <= 10; i++) Assert.True(Lum(Colormap.Viridis(i / 10f)) > Lum(Colormap.Viridis((i - 1) / 10f)));

        var image = new RgbImage(2, 1, [100, 100, 100, 100, 100, 100]);
        var overlay = Pictures.HeatOverlay(image, [0f, 1f], alpha: 0.5f);
        Assert.Equal((byte)Math.Round(0.5 * 100 + 0.5 * hi.G), overlay[1, 0, 1]);
        Assert.Equal((byte)Math.Round(0.5 * 100 + 0.5 * lo.B), overlay[0, 0, 2]);
        Assert.Throws<ArgumentException>(() => Pictures.HeatOverlay(image, [0f], 0.5f));
    }

    [Fact]
    public void PanelsShowCaptionsPicturesAndLegend()
    {
        var r = Evaluator.Run(ColourWorld.Write(), ColourWorld.Perfect, ColourWorld.Spilling,
            new EvaluationOptions { Examples = 2, Segmentation = SegInferenceOptions.Validation });
        var row = Panels.Row(r.Examples[1], ColourWorld.Classes);
        Assert.Equal(["image", "ground truth", "CAM", "pseudo label @ 0.5", "prediction"], row.Cells.Select(c => c.Caption));
        Assert.Equal(["background", "red", "blue", "ignore"], row.Legend.Select(l => l.Name));
        Assert.Contains("b — image labels: red, blue", row.Title);
        var sheet = Panels.Render([row, Panels.Row(r.Examples[0], ColourWorld.Classes)], new PanelStyle { CellSize = 96 });
        Assert.True(sheet.Width >= 12 * 2 + 5 * 96 + 4 * 10);
        Assert.True(DarkPixels(sheet, 0, 30) > 100, "the title has no text");
        // Label maps are enlarged without smoothing: whole blocks of the exact VOC colours (red = label 1 = (128, 0, 0)).
        Assert.True(PixelsOf(sheet, new Rgb(128, 0, 0)) > 3 * 200);
        Assert.True(PixelsOf(sheet, new Rgb(0, 128, 0)) > 3 * 200);   // blue = label 2 = (0, 128, 0)
        var png = Panels.RenderPng([row], palette: true);
        Assert.Equal(ImageCodec.DecodeRgb(png, "p.png").Width, Panels.Render([row]).Width);
    }

    [Fact]
    public void MetricLogRoundTripsThroughCsv()
    {
        var dir = DataTestSupport.NewTempDir("metric-log");
        string path = Path.Combine(dir, "metrics.csv");
        MetricLog.AppendTo(path, 1, "loss/total", 0.5);
        MetricLog.AppendTo(path, 2, "loss/total", 0.25);
        MetricLog.AppendTo(path, 2, "miou/Pred.", 1.0 / 3);
        var log = MetricLog.Load(path);
        Assert.Equal(["loss/total", "miou/Pred."], log.Names);
        var (x, y) = log.Series("loss/total");
        Assert.Equal([1.0, 2.0], x);
        Assert.Equal([0.5, 0.25], y);
        Assert.Equal(1.0 / 3, log.Series("miou/Pred.").Values[0]);   // round-trip precision
        log.Save(path);
        Assert.Equal(File.ReadAllText(path), string.Join("", File.ReadAllLines(path).Select(l => l + "\n")));
        Assert.Equal(3, MetricLog.Load(path).Entries.Count);
        Assert.Throws<ArgumentException>(() => log.Add(1, "bad,name", 0));
        File.WriteAllText(path, "step,name,value\n1,x\n");
        Assert.Throws<FormatException>(() => MetricLog.Load(path));
    }

    /// <summary>
    /// A whole run: the colour classifier trained on the small synthetic dataset, evaluated, reported. The report's
    /// relative links must all resolve, and the embedded variant must be one file. With the environment variable
    /// FSR_EXAMPLE_REPORT_DIR set, it writes the documentation's example report there instead (a larger run on
    /// 128×128 images: see docs/evaluation-and-reports.md).
    /// </summary>
    [Fact]
    public void AWholeRunGivesAReportWhoseLinksResolve()
    {
        string? docsDir = Environment.GetEnvironmentVariable("FSR_EXAMPLE_REPORT_DIR");
        string data = docsDir is null
            ? DataTestSupport.SmallSynthetic
            : SyntheticDataset.EnsureAt(Path.Combine(DataTestSupport.NewTempDir("example-report-data"), "synthetic"),
                new SyntheticOptions { Seed = 0, Train = 160, Val = 40, Size = 128 });
        var settings = docsDir is null
            ? new ExampleRun.Settings()
            : new ExampleRun.Settings { Steps = 300, EvalEvery = 25, ValLimit = 40, Examples = 3 };
        var report = ExampleRun.Run(data, settings);
        var ev = report.Evaluation!;
        Assert.InRange(ev.Prediction!.MeanIoU, 0.05, 1.0);
        Assert.Equal(7, ev.Cams[0].Sweep.Count);

        string dir = docsDir ?? DataTestSupport.NewTempDir("report");
        var options = docsDir is null ? new HtmlReportOptions() : new HtmlReportOptions { PalettePng = true, RowsPerPanel = 3, Panel = new PanelStyle { CellSize = 160 } };
        string index = HtmlReport.Write(dir, report, options);
        string html = File.ReadAllText(index);
        foreach (string name in ev.Classes.Names) Assert.Contains(name, html);
        Assert.Contains("mIoU", html);
        Assert.Contains("pixel accuracy", html);
        var links = Regex.Matches(html, "(?:src|href)=\"([^\"]+)\"").Select(m => Uri.UnescapeDataString(m.Groups[1].Value)).ToArray();
        Assert.Contains(links, l => l.StartsWith("images/curve-loss", StringComparison.Ordinal));
        Assert.Contains(links, l => l.StartsWith("images/curve-miou", StringComparison.Ordinal));
        Assert.Contains(links, l => l.StartsWith("images/cam-threshold-sweep", StringComparison.Ordinal));
        Assert.Contains(links, l => l.StartsWith("labels/", StringComparison.Ordinal));
        Assert.All(links, l =>
        {
            Assert.False(Path.IsPathRooted(l) || l.Contains("://"), $"{l} is not a relative link");
            Assert.True(File.Exists(Path.Combine(dir, l)), $"{l} does not exist");
        });
        if (docsDir is not null) return;

        string single = DataTestSupport.NewTempDir("report-embedded");
        HtmlReport.Write(single, report, new HtmlReportOptions { EmbedImages = true });
        Assert.Equal(["index.html"], Directory.EnumerateFileSystemEntries(single).Select(Path.GetFileName));
        var embedded = File.ReadAllText(Path.Combine(single, "index.html"));
        Assert.All(Regex.Matches(embedded, "src=\"([^\"]+)\"").Select(m => m.Groups[1].Value), s => Assert.StartsWith("data:image/png;base64,", s));
    }
}
