using FsrNative.Data;
using FsrNative.Tests.Infrastructure;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace FsrNative.Tests.Data;

[Trait(Categories.Trait, DataCategory.Name)]
public class CodecTests
{
    static byte[] Labels(int w, int h)
    {
        var m = new byte[w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) m[y * w + x] = (byte)((x / 3 + y / 2) % 7 == 6 ? 255 : (x / 3 + y / 2) % 7);
        return m;
    }

    [Fact]
    public void VocPaletteMatchesTheKnownColours()
    {
        var p = ClassSet.VocPalette;
        Assert.Equal(new Rgb(0, 0, 0), p[0]);
        Assert.Equal(new Rgb(128, 0, 0), p[1]);
        Assert.Equal(new Rgb(0, 128, 0), p[2]);
        Assert.Equal(new Rgb(128, 128, 0), p[3]);
        Assert.Equal(new Rgb(192, 128, 128), p[15]);   // person
        Assert.Equal(new Rgb(0, 64, 128), p[20]);      // tvmonitor
        Assert.Equal(new Rgb(224, 224, 192), p[255]);  // void
        Assert.Equal(256, p.Distinct().Count());       // a bijection: colour masks map back uniquely
    }

    [Fact]
    public void PalettePngRoundTripsAndImageSharpSeesTheSameColours()
    {
        int w = 37, h = 23;
        var m = Labels(w, h);
        var png = IndexPng.Encode(m, w, h, ClassSet.VocPalette);
        Assert.Equal(m, IndexPng.Decode(png, "t.png", out int dw, out int dh));
        Assert.Equal((w, h), (dw, dh));
        // An independent decoder agrees on the colours (checks the chunks, CRCs, palette and zlib stream we write).
        using var img = Image.Load<Rgb24>(png);
        for (int i = 0; i < m.Length; i++)
        {
            var c = img[i % w, i / w];
            Assert.Equal(ClassSet.VocPalette[m[i]], new Rgb(c.R, c.G, c.B));
        }
    }

    [Theory]
    [InlineData(PngFilterMethod.None)]
    [InlineData(PngFilterMethod.Sub)]
    [InlineData(PngFilterMethod.Up)]
    [InlineData(PngFilterMethod.Average)]
    [InlineData(PngFilterMethod.Paeth)]
    [InlineData(PngFilterMethod.Adaptive)]
    public void GreyPngsWrittenByImageSharpDecodeToTheirValues(PngFilterMethod filter)
    {
        int w = 41, h = 19;
        var m = Labels(w, h);
        using var img = Image.LoadPixelData<L8>(m, w, h);
        var ms = new MemoryStream();
        img.SaveAsPng(ms, new PngEncoder { ColorType = PngColorType.Grayscale, BitDepth = PngBitDepth.Bit8, FilterMethod = filter });
        Assert.Equal(m, IndexPng.Decode(ms.ToArray(), "g.png", out _, out _));
    }

    [Fact]
    public void RgbColourMasksMapBackThroughThePalette()
    {
        int w = 9, h = 5;
        var m = Labels(w, h);
        var rgb = new Rgb24[w * h];
        for (int i = 0; i < m.Length; i++) { var c = ClassSet.VocPalette[m[i]]; rgb[i] = new Rgb24(c.R, c.G, c.B); }
        using var img = Image.LoadPixelData<Rgb24>(rgb, w, h);
        var ms = new MemoryStream();
        img.SaveAsPng(ms, new PngEncoder { ColorType = PngColorType.Rgb });
        Assert.Equal(m, IndexPng.Decode(ms.ToArray(), "c.png", out _, out _, ClassSet.VocPalette));
        var e = Assert.Throws<DataException>(() => IndexPng.Decode(ms.ToArray(), "c.png", out _, out _));
        Assert.Equal(DataProblem.Unsupported, e.Problem);
    }

    [Fact]
    public void JpegRoundTripIsCloseAndDeterministic()
    {
        int w = 48, h = 32;
        var rgb = new byte[w * h * 3];
        for (int i = 0; i < w * h; i++) { rgb[3 * i] = (byte)(i % w * 5); rgb[3 * i + 1] = (byte)(i / w * 7); rgb[3 * i + 2] = 128; }
        var a = ImageCodec.EncodeJpeg(rgb, w, h, 95);
        Assert.Equal(a, ImageCodec.EncodeJpeg(rgb, w, h, 95));
        var back = ImageCodec.DecodeRgb(a, "x.jpg");
        Assert.Equal((w, h), (back.Width, back.Height));
        double err = 0;
        for (int i = 0; i < rgb.Length; i++) err += Math.Abs(rgb[i] - back.Pixels[i]);
        Assert.True(err / rgb.Length < 4, $"mean abs error {err / rgb.Length}");
    }

    [Fact]
    public void TruncatedAndGarbageFilesAreTypedErrorsNamingTheFile()
    {
        int w = 32, h = 32;
        var jpg = ImageCodec.EncodeJpeg(new byte[w * h * 3], w, h);
        var e = Assert.Throws<DataException>(() => ImageCodec.DecodeRgb(jpg[..(jpg.Length / 2)], "half.jpg"));
        Assert.Equal(DataProblem.Truncated, e.Problem);
        Assert.Contains("half.jpg", e.Message);
        e = Assert.Throws<DataException>(() => ImageCodec.DecodeRgb([1, 2, 3, 4, 5, 6, 7, 8, 9], "junk.jpg"));
        Assert.Equal(DataProblem.Undecodable, e.Problem);
        e = Assert.Throws<DataException>(() => ImageCodec.DecodeRgb([], "empty.jpg"));
        Assert.Equal(DataProblem.Truncated, e.Problem);
        var png = IndexPng.Encode(Labels(w, h), w, h, ClassSet.VocPalette);
        e = Assert.Throws<DataException>(() => IndexPng.Decode(png[..(png.Length - 5)], "cut.png", out _, out _));
        Assert.Equal(DataProblem.Truncated, e.Problem);
        Assert.Contains("cut.png", e.Message);
        var flipped = (byte[])png.Clone();
        flipped[40] ^= 0x10;
        e = Assert.Throws<DataException>(() => IndexPng.Decode(flipped, "flip.png", out _, out _));
        Assert.Equal(DataProblem.Undecodable, e.Problem);
        e = Assert.Throws<DataException>(() => ImageCodec.LoadRgb("/nonexistent/x.jpg"));
        Assert.Equal(DataProblem.MissingFile, e.Problem);
    }

    [Fact]
    public void PhiloxStreamsAreKeyedAndReproducible()
    {
        var a = new RandomKey(5, 3, 17, 1).Open();
        var b = new RandomKey(5, 3, 17, 1).Open();
        for (int i = 0; i < 50; i++) Assert.Equal(a.NextUInt(), b.NextUInt());
        // Word i of the stream is Philox word i: block i/4, lane i%4.
        var key = new RandomKey(5, 3, 17, 1);
        var c = key.Open();
        for (int i = 0; i < 9; i++) Assert.Equal(FsrNative.Kernels.Random.Philox.Word(5, key.Stream, (ulong)(i / 4), i % 4), c.NextUInt());
        Assert.NotEqual(new RandomKey(5, 3, 17, 0).Stream, key.Stream);
        Assert.NotEqual(new RandomKey(5, 4, 17, 1).Stream, key.Stream);
        Assert.NotEqual(new RandomKey(5, 3, 18, 1).Stream, key.Stream);
        Assert.NotEqual(new RandomKey(5, 3, 17, 1, RandomPurpose.Shuffle).Stream, key.Stream);
        var perm = new RandomKey(1, 0, 0, 0, RandomPurpose.Shuffle).Open().Permutation(1000);
        Assert.Equal(Enumerable.Range(0, 1000), perm.Order());
        var r = new RandomKey(9, 0, 0, 0).Open();
        for (int i = 0; i < 1000; i++)
        {
            int k = r.NextInt(7); Assert.InRange(k, 0, 6);
            double u = r.NextDouble(); Assert.InRange(u, 0, 1 - 1e-17);
        }
    }
}
