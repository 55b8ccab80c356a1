using FsrNative.Data;
using FsrNative.Data.Transforms;
using FsrNative.Eval;
using FsrNative.Tests.Data;

namespace FsrNative.Tests.Eval;

/// <summary>The "Eval" test category: metrics, inference, CAM evaluation and reports
/// (<c>dotnet test FsrNative.sln -c Release --filter Category=Eval</c>).</summary>
public static class EvalCategory
{
    public const string Name = "Eval";
}

/// <summary>
/// A tiny dataset whose image colours encode the labels, and "models" that read the labels back from the colours,
/// so that what an evaluation must measure is known exactly.
/// <para>Labels: 0 background, 1 "red", 2 "blue". Background pixels are of two kinds, "sky" (light grey) and
/// "ground" (dark grey), both label 0. Every mask has a few 255 pixels (their image colour is that of the label
/// underneath).</para>
/// </summary>
public static class ColourWorld
{
    public static readonly ClassSet Classes = new("colour", ["background", "red", "blue"]);

    public static readonly Rgb Sky = new(200, 200, 200), Ground = new(40, 40, 40), Red = new(220, 30, 30), Blue = new(30, 30, 220);
    static readonly Rgb[] Colours = [Sky, Ground, Red, Blue];   // colour index → label: sky 0, ground 0, red 1, blue 2
    static readonly int[] LabelOfColour = [0, 0, 1, 2];

    /// <summary>One image: colour indices per pixel (0 sky, 1 ground, 2 red, 3 blue) and the pixels marked ignore.</summary>
    public sealed record Scene(string Id, int Width, int Height, byte[] ColourIndex, bool[] Ignore)
    {
        public byte[] Mask()
        {
            var m = new byte[ColourIndex.Length];
            for (int i = 0; i < m.Length; i++) m[i] = Ignore[i] ? (byte)255 : (byte)LabelOfColour[ColourIndex[i]];
            return m;
        }

        public RgbImage Image()
        {
            var px = new byte[ColourIndex.Length * 3];
            for (int i = 0; i < ColourIndex.Length; i++)
            {
                var c = Colours[ColourIndex[i]];
                px[3 * i] = c.R; px[3 * i + 1] = c.G; px[3 * i + 2] = c.B;
            }
            return new RgbImage(Width, Height, px);
        }

        public int Count(int colour) => ColourIndex.Select((c, i) => (c, i)).Count(p => p.c == colour && !Ignore[p.i]);
    }

    /// <summary>
    /// Three scenes of 24×16: the top half sky, the bottom half ground, with rectangles of red / blue.
    /// a: red 8×6 at (2,2); b: red 6×4 at (14,9) and blue 4×8 at (4,6); c: blue 10×5 at (10,1).
    /// Ignore: the pixel right of each rectangle's top-right corner row (one per rectangle).
    /// </summary>
    public static IReadOnlyList<Scene> Scenes { get; } = BuildScenes();

    static IReadOnlyList<Scene> BuildScenes()
    {
        Scene Make(string id, params (int colour, int x, int y, int w, int h)[] rects)
        {
            const int W = 24, H = 16;
            var ci = new byte[W * H];
            var ignore = new bool[W * H];
            for (int y = 0; y < H; y++) for (int x = 0; x < W; x++) ci[y * W + x] = (byte)(y < H / 2 ? 0 : 1);
            foreach (var (colour, x0, y0, w, h) in rects)
            {
                for (int y = y0; y < y0 + h; y++) for (int x = x0; x < x0 + w; x++) ci[y * W + x] = (byte)colour;
                ignore[y0 * W + x0 + w - 1] = true;
            }
            return new Scene(id, W, H, ci, ignore);
        }
        return [Make("a", (2, 2, 2, 8, 6)), Make("b", (2, 14, 9, 6, 4), (3, 4, 6, 4, 8)), Make("c", (3, 10, 1, 10, 5))];
    }

    /// <summary>Writes the scenes as a dataset in the VOC layout (split "val"). The images are lossless PNG files
    /// under <c>.jpg</c> names — the reader identifies formats by content — so that colours survive exactly.</summary>
    public static SegmentationDataset Write(string? dir = null)
    {
        dir ??= DataTestSupport.NewTempDir("colour-world");
        Directory.CreateDirectory(Path.Combine(dir, "JPEGImages"));
        Directory.CreateDirectory(Path.Combine(dir, "SegmentationClassAug"));
        Directory.CreateDirectory(Path.Combine(dir, "ImageSets", "Segmentation"));
        foreach (var s in Scenes)
        {
            var img = s.Image();
            File.WriteAllBytes(Path.Combine(dir, "JPEGImages", s.Id + ".jpg"), ImageCodec.EncodePngRgb(img.Pixels, img.Width, img.Height));
            File.WriteAllBytes(Path.Combine(dir, "SegmentationClassAug", s.Id + ".png"), IndexPng.Encode(s.Mask(), s.Width, s.Height, ClassSet.VocPalette));
        }
        File.WriteAllLines(Path.Combine(dir, "ImageSets", "Segmentation", "val.txt"), Scenes.Select(s => s.Id));
        Classes.Save(Path.Combine(dir, "classes.txt"));
        return VocDataset.Open(dir, "val");
    }

    /// <summary>The images back in [0, 1] from the evaluation transform's normalisation, (N, 3, H, W).</summary>
    public static Tensor Denormalise(Tensor images)
    {
        using var mean = torch.tensor(Photometric.ImageNetMean, 1, 3, 1, 1);
        using var std = torch.tensor(Photometric.ImageNetStd, 1, 3, 1, 1);
        return images.mul(std).add(mean);
    }

    /// <summary>Per pixel: −50·‖rgb − colour‖² for each of the 4 colours, (N, 4, H, W). Exactly 0 at a pure colour.</summary>
    public static Tensor ColourScores(Tensor images)
    {
        var rgb = Denormalise(images);
        var planes = Colours.Select(c =>
        {
            using var col = torch.tensor([c.R / 255f, c.G / 255f, c.B / 255f], 1, 3, 1, 1);
            return rgb.sub(col).square().sum(1, keepdim: true).mul(-50f);
        }).ToArray();
        return torch.cat(planes, 1);
    }

    /// <summary>A perfect segmentation model: logits (N, 3, H, W) = max over the colours of each label.</summary>
    public static ISegmentationModel Perfect { get; } = EvalModels.Segmentation(x =>
    {
        var s = ColourScores(x);
        var bg = s.narrow(1, 0, 1).maximum(s.narrow(1, 1, 1));
        return torch.cat([bg, s.narrow(1, 2, 1), s.narrow(1, 3, 1)], 1);
    });

    /// <summary>Predicts background everywhere.</summary>
    public static ISegmentationModel AllBackground { get; } = EvalModels.Segmentation(x =>
    {
        int n = x.size(0), h = x.size(2), w = x.size(3);
        var bg = torch.ones([n, 1, h, w]);
        return torch.cat([bg, torch.zeros([n, 2, h, w])], 1);
    });

    /// <summary>
    /// A CAM model with a known spill: cam_red = 1 on red, 0.4 on sky, 0 on ground and blue; cam_blue likewise.
    /// After min-max normalisation (min 0 on ground, max 1 on the class) the values stay 1 / 0.4 / 0
    /// (up to the 1e-5 of the denominator).
    /// </summary>
    public static ICamModel Spilling { get; } = EvalModels.Cam(x =>
    {
        var s = ColourScores(x).exp();   // 1 at the exact colour, ~0 elsewhere (colours are ≥ 0.2 apart per channel)
        var sky = s.narrow(1, 0, 1).mul(0.4f);
        return torch.cat([s.narrow(1, 2, 1).add(sky), s.narrow(1, 3, 1).add(sky)], 1);
    });
}
