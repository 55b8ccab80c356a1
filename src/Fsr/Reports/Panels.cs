using System.Globalization;
using FsrNative.Data;
using FsrNative.Eval;
using SkiaSharp;

namespace FsrNative.Reports;

/// <summary>One picture of a panel with its caption. <see cref="Pixelated"/> enlarges it without smoothing (label maps).</summary>
public sealed record PanelCell(string Caption, RgbImage Picture, bool Pixelated = false);

/// <summary>A colour swatch and its name in a row's legend.</summary>
public readonly record struct LegendEntry(string Name, Rgb Colour);

/// <summary>One row of a panel sheet: a title, the pictures side by side, a legend of the label colours, and
/// optionally the viridis colour bar (for rows with a CAM).</summary>
public sealed record PanelRow(string Title, IReadOnlyList<PanelCell> Cells, IReadOnlyList<LegendEntry> Legend, bool HeatBar = false);

/// <summary>Sizes of a panel sheet, in pixels.</summary>
public sealed record PanelStyle
{
    /// <summary>The longer side of each picture (pictures are scaled to it, aspect kept).</summary>
    public int CellSize { get; init; } = 192;
    public float FontSize { get; init; } = 15f;
    public float TitleSize { get; init; } = 16f;
    public int Gap { get; init; } = 10;
    public int Margin { get; init; } = 12;
}

/// <summary>
/// Side-by-side panels (image | ground truth | CAM | pseudo label | prediction) drawn with SkiaSharp and the embedded
/// font: captions above each picture, a bold title per row, a legend of the classes in view, the CAM colour bar.
/// </summary>
public static class Panels
{
    static readonly SKColor Background = SKColors.White, Ink = new(0x20, 0x20, 0x20), Faint = new(0x70, 0x70, 0x70), Frame = new(0xB0, 0xB0, 0xB0);

    /// <summary>
    /// The standard row of one evaluated image: image | ground truth | CAM heat map over the image | CAM pseudo
    /// label (single threshold) | prediction | prediction after the post-processor — each column when available.
    /// <paramref name="camSet"/> picks the CAM set shown (default: the first).
    /// </summary>
    public static PanelRow Row(EvalExample example, ClassSet classes, string? camSet = null, string? postProcessorName = null)
    {
        int w = example.Width, h = example.Height;
        var cells = new List<PanelCell> { new("image", example.Image), new("ground truth", Pictures.Labels(example.Truth, w, h), true) };
        var cam = camSet is null ? example.Cams.FirstOrDefault() : example.Cams.FirstOrDefault(c => c.Name == camSet);
        if (cam is not null)
        {
            cells.Add(new PanelCell(cam.Name, Pictures.HeatOverlay(example.Image, cam.Heat)));
            cells.Add(new PanelCell(string.Create(CultureInfo.InvariantCulture, $"pseudo label @ {cam.Threshold:0.##}"), Pictures.Labels(cam.Labels, w, h), true));
        }
        if (example.Prediction is not null) cells.Add(new PanelCell("prediction", Pictures.Labels(example.Prediction, w, h), true));
        if (example.PostProcessed is not null) cells.Add(new PanelCell($"prediction + {postProcessorName ?? "CRF"}", Pictures.Labels(example.PostProcessed, w, h), true));

        var present = new SortedSet<int>();
        void Collect(byte[]? labels) { if (labels is not null) foreach (byte l in labels) present.Add(l); }
        Collect(example.Truth); Collect(cam?.Labels); Collect(example.Prediction); Collect(example.PostProcessed);
        var legend = present.Select(l => new LegendEntry(l == ClassSet.Ignore ? "ignore" : l < classes.NumLabels ? classes.Names[l] : l.ToString(CultureInfo.InvariantCulture), Pictures.LabelColour(l))).ToList();
        var names = example.ImageLabels.Select((v, c) => (v, c)).Where(p => p.v > 0).Select(p => classes.Names[p.c + 1]);
        string title = $"{example.Id} — image labels: {string.Join(", ", names.DefaultIfEmpty("none"))}";
        return new PanelRow(title, cells, legend, cam is not null);
    }

    /// <summary>Draws the rows one under the other and encodes the sheet as PNG (<paramref name="palette"/>: 256 colours, smaller).</summary>
    public static byte[] RenderPng(IReadOnlyList<PanelRow> rows, PanelStyle? style = null, bool palette = false)
        => Pictures.Png(Render(rows, style), palette);

    /// <summary>Draws the rows one under the other on a white sheet.</summary>
    public static RgbImage Render(IReadOnlyList<PanelRow> rows, PanelStyle? style = null)
    {
        if (rows.Count == 0) throw new ArgumentException("panels: no rows to draw");
        var s = style ?? new PanelStyle();
        using var font = new SKFont(ReportFonts.Regular, s.FontSize) { Subpixel = true, Edging = SKFontEdging.Antialias };
        using var titleFont = new SKFont(ReportFonts.Bold, s.TitleSize) { Subpixel = true, Edging = SKFontEdging.Antialias };
        float lineH = font.Spacing, titleH = titleFont.Spacing;
        int swatch = (int)MathF.Round(s.FontSize);

        // Layout: each row is title, captions, pictures, legend; the sheet is as wide as the widest row.
        var layouts = rows.Select(r => LayoutRow(r, s)).ToArray();
        int width = 0, height = s.Margin;
        for (int i = 0; i < rows.Count; i++)
        {
            int rowW = 2 * s.Margin + layouts[i].Sum(c => c.w) + s.Gap * (layouts[i].Length - 1);
            int titleW = 2 * s.Margin + (int)MathF.Ceiling(titleFont.MeasureText(rows[i].Title));
            width = Math.Max(width, Math.Max(rowW, titleW));
            height += RowHeight(layouts[i], s, lineH, titleH) + (i + 1 < rows.Count ? s.Gap * 2 : 0);
        }
        height += s.Margin;

        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(Background);
            using var ink = new SKPaint { Color = Ink, IsAntialias = true };
            using var faint = new SKPaint { Color = Faint, IsAntialias = true };
            using var frame = new SKPaint { Color = Frame, IsStroke = true, StrokeWidth = 1 };
            using var rule = new SKPaint { Color = new SKColor(0xDD, 0xDD, 0xDD), StrokeWidth = 1 };
            float y = s.Margin;
            for (int r = 0; r < rows.Count; r++)
            {
                var row = rows[r];
                var lay = layouts[r];
                canvas.DrawText(row.Title, s.Margin, y - titleFont.Metrics.Ascent, SKTextAlign.Left, titleFont, ink);
                y += titleH + 4;
                float x = s.Margin;
                int cellH = lay.Max(c => c.h);
                for (int c = 0; c < row.Cells.Count; c++)
                {
                    var cell = row.Cells[c];
                    string caption = Fit(cell.Caption, font, lay[c].w);
                    canvas.DrawText(caption, x + lay[c].w / 2f, y - font.Metrics.Ascent, SKTextAlign.Center, font, faint);
                    float top = y + lineH + 2;
                    using var image = ToSkImage(cell.Picture);
                    var dest = new SKRect(x, top, x + lay[c].w, top + lay[c].h);
                    var sampling = cell.Pixelated ? new SKSamplingOptions(SKFilterMode.Nearest) : new SKSamplingOptions(SKCubicResampler.Mitchell);
                    canvas.DrawImage(image, dest, sampling);
                    canvas.DrawRect(new SKRect(dest.Left - 0.5f, dest.Top - 0.5f, dest.Right + 0.5f, dest.Bottom + 0.5f), frame);
                    x += lay[c].w + s.Gap;
                }
                y += lineH + 2 + cellH + 6;
                // Legend: swatches with names, then the CAM colour bar.
                float lx = s.Margin, baseline = y - font.Metrics.Ascent;
                foreach (var e in row.Legend)
                {
                    float textW = font.MeasureText(e.Name);
                    if (lx + swatch + 6 + textW > width - s.Margin) break;
                    using var fill = new SKPaint { Color = new SKColor(e.Colour.R, e.Colour.G, e.Colour.B) };
                    var box = new SKRect(lx, y + 2, lx + swatch, y + 2 + swatch);
                    canvas.DrawRect(box, fill);
                    canvas.DrawRect(box, frame);
                    canvas.DrawText(e.Name, lx + swatch + 5, baseline, SKTextAlign.Left, font, ink);
                    lx += swatch + 5 + textW + 16;
                }
                if (row.HeatBar)
                {
                    const string lo = "CAM 0", hi = "1";
                    float barW = 120, need = font.MeasureText(lo) + 6 + barW + 6 + font.MeasureText(hi);
                    float bx = Math.Max(lx + 8, width - s.Margin - need);
                    if (bx + need <= width - s.Margin + 0.5f)
                    {
                        canvas.DrawText(lo, bx, baseline, SKTextAlign.Left, font, ink);
                        bx += font.MeasureText(lo) + 6;
                        for (int i = 0; i < (int)barW; i++)
                        {
                            var c = Colormap.Viridis(i / (barW - 1));
                            using var p = new SKPaint { Color = new SKColor(c.R, c.G, c.B) };
                            canvas.DrawRect(new SKRect(bx + i, y + 2, bx + i + 1, y + 2 + swatch), p);
                        }
                        canvas.DrawRect(new SKRect(bx, y + 2, bx + barW, y + 2 + swatch), frame);
                        canvas.DrawText(hi, bx + barW + 6, baseline, SKTextAlign.Left, font, ink);
                    }
                }
                y += lineH + 4;
                if (r + 1 < rows.Count)
                {
                    canvas.DrawLine(s.Margin, y + s.Gap - 0.5f, width - s.Margin, y + s.Gap - 0.5f, rule);
                    y += s.Gap * 2;
                }
            }
        }
        return FromBitmap(bitmap);
    }

    static (int w, int h)[] LayoutRow(PanelRow row, PanelStyle s)
    {
        if (row.Cells.Count == 0) throw new ArgumentException($"panels: row '{row.Title}' has no pictures");
        return row.Cells.Select(c =>
        {
            double k = (double)s.CellSize / Math.Max(c.Picture.Width, c.Picture.Height);
            return ((int)Math.Round(c.Picture.Width * k), (int)Math.Round(c.Picture.Height * k));
        }).ToArray();
    }

    static int RowHeight((int w, int h)[] lay, PanelStyle s, float lineH, float titleH) =>
        (int)MathF.Ceiling(titleH + 4 + lineH + 2 + lay.Max(c => c.h) + 6 + lineH + 4);

    /// <summary>The caption, shortened with an ellipsis to fit <paramref name="width"/>.</summary>
    static string Fit(string text, SKFont font, float width)
    {
        if (font.MeasureText(text) <= width) return text;
        for (int n = text.Length - 1; n > 0; n--)
        {
            string t = text[..n].TrimEnd() + "…";
            if (font.MeasureText(t) <= width) return t;
        }
        return "…";
    }

    static SKImage ToSkImage(RgbImage p)
    {
        var rgba = new byte[p.Width * p.Height * 4];
        for (int i = 0, n = p.Width * p.Height; i < n; i++)
        {
            rgba[4 * i] = p.Pixels[3 * i]; rgba[4 * i + 1] = p.Pixels[3 * i + 1]; rgba[4 * i + 2] = p.Pixels[3 * i + 2]; rgba[4 * i + 3] = 255;
        }
        var info = new SKImageInfo(p.Width, p.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var data = SKData.CreateCopy(rgba);
        return SKImage.FromPixels(info, data, info.RowBytes) ?? throw new InvalidOperationException("panels: Skia could not wrap a picture");
    }

    static RgbImage FromBitmap(SKBitmap bitmap)
    {
        int w = bitmap.Width, h = bitmap.Height;
        var src = bitmap.GetPixelSpan();
        var px = new byte[w * h * 3];
        int stride = bitmap.RowBytes;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int i = y * stride + 4 * x, o = 3 * (y * w + x);
                px[o] = src[i]; px[o + 1] = src[i + 1]; px[o + 2] = src[i + 2];
            }
        return new RgbImage(w, h, px);
    }
}
