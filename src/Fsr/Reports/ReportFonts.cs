using SkiaSharp;

namespace FsrNative.Reports;

/// <summary>
/// The font of every picture the reports draw: DejaVu Sans (regular and bold), embedded in the assembly
/// (<c>Reports/Fonts</c>, subset to Latin-1, Greek and common symbols; licence beside it). Skia's Linux build
/// without native dependencies finds no fonts on a system without them (a fresh Debian 12 has none), and text
/// would silently vanish, so nothing here relies on system fonts: panels draw with <see cref="Regular"/> /
/// <see cref="Bold"/>, and <see cref="UseInScottPlot"/> teaches ScottPlot the family name <see cref="Family"/>.
/// </summary>
public static class ReportFonts
{
    public const string Family = "DejaVu Sans";

    static readonly Lazy<SKData> RegularData = new(() => Load("DejaVuSans.ttf"));
    static readonly Lazy<SKData> BoldData = new(() => Load("DejaVuSans-Bold.ttf"));
    static readonly Lazy<SKTypeface> RegularFace = new(() => Create(RegularData.Value, "DejaVuSans.ttf"));
    static readonly Lazy<SKTypeface> BoldFace = new(() => Create(BoldData.Value, "DejaVuSans-Bold.ttf"));
    static readonly object Gate = new();
    static bool _registered;

    public static SKTypeface Regular => RegularFace.Value;
    public static SKTypeface Bold => BoldFace.Value;

    /// <summary>Registers the embedded font with ScottPlot (once per process) so that <c>plot.Font.Set(Family)</c>
    /// renders with it whatever the system has.</summary>
    public static void UseInScottPlot()
    {
        lock (Gate)
        {
            if (_registered) return;
            ScottPlot.Fonts.FontResolvers.Insert(0, new Resolver());
            _registered = true;
        }
    }

    static SKData Load(string file)
    {
        string name = "FsrNative.Reports.Fonts." + file;
        using var s = typeof(ReportFonts).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"report fonts: the embedded resource {name} is missing from the build");
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        return SKData.CreateCopy(ms.ToArray());
    }

    static SKTypeface Create(SKData data, string file) =>
        SKTypeface.FromData(data) ?? throw new InvalidOperationException($"report fonts: Skia cannot read the embedded font {file}");

    /// <summary>Hands ScottPlot a fresh typeface of the embedded font for <see cref="Family"/> (ScottPlot caches
    /// and may dispose what it gets), and nothing for other names (ScottPlot then asks the next resolver).</summary>
    sealed class Resolver : ScottPlot.IFontResolver
    {
        public SKTypeface? CreateTypeface(string fontName, ScottPlot.FontWeight weight, ScottPlot.FontSlant slant, ScottPlot.FontSpacing spacing) =>
            CreateTypeface(fontName, (int)weight >= (int)ScottPlot.FontWeight.SemiBold, slant != ScottPlot.FontSlant.Upright);

        public SKTypeface? CreateTypeface(string fontName, bool bold, bool italic) =>
            string.Equals(fontName, Family, StringComparison.OrdinalIgnoreCase)
                ? SKTypeface.FromData(bold ? BoldData.Value : RegularData.Value)
                : null;
    }
}
