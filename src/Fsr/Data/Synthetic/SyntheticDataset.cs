using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FsrNative.Data.Synthetic;

/// <summary>Options of the synthetic dataset. The same options and seed always give byte-identical files.</summary>
public sealed record SyntheticOptions
{
    public ulong Seed { get; init; }
    public int Train { get; init; } = 3000;
    public int Val { get; init; } = 300;
    /// <summary>Image side in pixels (square images).</summary>
    public int Size { get; init; } = 128;
    public int JpegQuality { get; init; } = 92;
    /// <summary>Threads used to render and encode (default: all cores).</summary>
    public int Parallelism { get; init; } = Environment.ProcessorCount;

    public void Validate()
    {
        if (Train < 1 || Val < 1) throw new ArgumentException($"synthetic dataset: --train ({Train}) and --val ({Val}) must be at least 1");
        if (Train > 1_000_000 || Val > 1_000_000) throw new ArgumentException("synthetic dataset: at most 1,000,000 images per split");
        if (Size < 32 || Size > 1024) throw new ArgumentException($"synthetic dataset: --size {Size} is outside 32..1024");
        if (JpegQuality < 50 || JpegQuality > 100) throw new ArgumentException($"synthetic dataset: JPEG quality {JpegQuality} is outside 50..100");
    }
}

/// <summary>
/// The embedded synthetic WSSS dataset (docs/synthetic-dataset.md): a deterministic generator that writes a small
/// dataset in the PASCAL VOC layout, read by <see cref="VocDataset"/> like VOC itself:
/// <c>JPEGImages/&lt;id&gt;.jpg</c>, <c>SegmentationClassAug/&lt;id&gt;.png</c> (VOC palette; 0 background,
/// 1..6 classes, 255 boundary band), <c>ImageSets/Segmentation/{train_aug,val}.txt</c>, <c>classes.txt</c>,
/// <c>cls_labels.txt</c> and <c>synthetic.json</c> (the options; written last, it marks a complete dataset).
/// </summary>
public static class SyntheticDataset
{
    /// <summary>Bump when the generator's output changes, so an old dataset on disk is not taken for a new one.</summary>
    public const int GeneratorVersion = 1;
    public const string MarkerFile = "synthetic.json";
    public const string TrainSplit = "train_aug", ValSplit = "val";

    public static ClassSet Classes { get; } = new("synthetic", ["background", "aeroplane", "boat", "car", "cow", "person", "bottle"]);

    public static string Id(string split, int index) => $"{(split == ValSplit ? "val" : "train")}_{index:D6}";

    /// <summary>Renders image <paramref name="index"/> of a split without touching the disk (a pure function of its arguments).</summary>
    public static SyntheticImage Render(ulong seed, string split, int index, int size)
    {
        long sample = (split == ValSplit ? 1L << 31 : 0) + index;
        var rng = new RandomKey(seed, 0, sample, 0, RandomPurpose.Synthetic).Open();
        return SceneGenerator.Render(rng, size);
    }

    /// <summary>
    /// Returns <paramref name="dir"/> once it holds a complete synthetic dataset with these options, generating it
    /// if it does not exist. Generation writes into a temporary sibling folder and renames it into place, so an
    /// interrupted run never leaves a partial dataset that looks complete. A folder that exists but holds no
    /// complete dataset of these options is an error (it is never overwritten).
    /// </summary>
    public static string EnsureAt(string dir, SyntheticOptions? options = null, TextWriter? log = null)
    {
        options ??= new SyntheticOptions();
        options.Validate();
        dir = Path.GetFullPath(dir);
        if (Directory.Exists(dir))
        {
            CheckExisting(dir, options);
            return dir;
        }
        string parent = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(dir)) ?? ".";
        Directory.CreateDirectory(parent);
        string tmp = Path.Combine(parent, $".{Path.GetFileName(Path.TrimEndingDirectorySeparator(dir))}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            Generate(tmp, options, log);
            try { Directory.Move(tmp, dir); }
            catch (IOException) when (Directory.Exists(dir))
            {
                // Someone else finished first: use theirs if it is the same dataset.
                Directory.Delete(tmp, recursive: true);
                CheckExisting(dir, options);
            }
        }
        catch
        {
            if (Directory.Exists(tmp)) { try { Directory.Delete(tmp, recursive: true); } catch (IOException) { } }
            throw;
        }
        return dir;
    }

    static void CheckExisting(string dir, SyntheticOptions options)
    {
        string marker = Path.Combine(dir, MarkerFile);
        if (!File.Exists(marker))
            throw new DataException(DataProblem.MissingFile, marker, "the folder exists but holds no complete synthetic dataset (no marker file); remove it or choose another folder");
        string expected = MarkerJson(options), actual = File.ReadAllText(marker);
        if (actual.Trim() != expected.Trim())
            throw new DataException(DataProblem.Malformed, marker, $"the folder holds a synthetic dataset with other options ({actual.Trim()}); wanted {expected.Trim()}");
    }

    static string MarkerJson(SyntheticOptions o) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["generator_version"] = GeneratorVersion, ["seed"] = o.Seed, ["train"] = o.Train, ["val"] = o.Val, ["size"] = o.Size, ["jpeg_quality"] = o.JpegQuality,
    });

    /// <summary>Writes the dataset into <paramref name="dir"/> (created; must not hold another dataset). Returns the elapsed time.</summary>
    public static TimeSpan Generate(string dir, SyntheticOptions options, TextWriter? log = null)
    {
        options.Validate();
        var sw = Stopwatch.StartNew();
        string images = Path.Combine(dir, "JPEGImages"), masks = Path.Combine(dir, "SegmentationClassAug"), sets = Path.Combine(dir, "ImageSets", "Segmentation");
        Directory.CreateDirectory(images); Directory.CreateDirectory(masks); Directory.CreateDirectory(sets);
        var labels = new Dictionary<string, float[]>(StringComparer.Ordinal);
        var sceneCounts = new int[5];
        foreach (var (split, count) in new[] { (TrainSplit, options.Train), (ValSplit, options.Val) })
        {
            var splitLabels = new float[count][];
            var scenes = new SceneKind[count];
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Parallelism) }, i =>
            {
                var img = Render(options.Seed, split, i, options.Size);
                string id = Id(split, i);
                File.WriteAllBytes(Path.Combine(images, id + ".jpg"), ImageCodec.EncodeJpeg(img.Rgb, img.Size, img.Size, options.JpegQuality));
                File.WriteAllBytes(Path.Combine(masks, id + ".png"), IndexPng.Encode(img.Mask, img.Size, img.Size, ClassSet.VocPalette));
                splitLabels[i] = img.Labels;
                scenes[i] = img.Scene;
            });
            var ids = Enumerable.Range(0, count).Select(i => Id(split, i)).ToArray();
            File.WriteAllText(Path.Combine(sets, split + ".txt"), string.Join("\n", ids) + "\n");
            for (int i = 0; i < count; i++) { labels[ids[i]] = splitLabels[i]; sceneCounts[(int)scenes[i]]++; }
            log?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {split}: {count} images ({sw.Elapsed.TotalSeconds:F1} s)"));
        }
        Classes.Save(Path.Combine(dir, "classes.txt"));
        ClassLabelCache.Write(Path.Combine(dir, ClassLabelCache.DefaultFileName), labels, Classes);
        File.WriteAllText(Path.Combine(dir, "README.txt"), Readme(options, labels, sceneCounts));
        File.WriteAllText(Path.Combine(dir, MarkerFile), MarkerJson(options) + "\n");
        return sw.Elapsed;
    }

    static string Readme(SyntheticOptions o, Dictionary<string, float[]> labels, int[] scenes)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"FsrNative synthetic WSSS dataset (generator v{GeneratorVersion}), seed {o.Seed}, {o.Train} train + {o.Val} val images of {o.Size}x{o.Size}.\n");
        sb.Append("Layout as PASCAL VOC: JPEGImages/, SegmentationClassAug/ (0 background, 1..6 classes, 255 boundary), ImageSets/Segmentation/{train_aug,val}.txt.\n");
        sb.Append("Regenerate: fsr make-synthetic --out DIR --seed N --train N --val N --size N (see docs/synthetic-dataset.md).\n\n");
        sb.Append("images per class (both splits): ");
        for (int c = 0; c < Classes.NumClasses; c++)
            sb.Append(CultureInfo.InvariantCulture, $"{Classes.Names[c + 1]} {labels.Values.Count(y => y[c] != 0)}{(c + 1 < Classes.NumClasses ? ", " : "\n")}");
        sb.Append("images per scene: ");
        for (int s = 0; s < scenes.Length; s++) sb.Append(CultureInfo.InvariantCulture, $"{(SceneKind)s} {scenes[s]}{(s + 1 < scenes.Length ? ", " : "\n")}");
        return sb.ToString();
    }

    /// <summary>A contact sheet: <paramref name="count"/> images of a split, each beside its colour-coded mask
    /// (VOC palette, ignore band white), as a PNG (256 colours unless <paramref name="palette"/> is false). For docs
    /// and for looking at the data.</summary>
    public static byte[] ContactSheet(ulong seed, string split, int count, int size, int columns = 4, bool palette = true)
    {
        int pad = 2, cellW = 2 * size + pad, cellH = size + pad;
        int rows = (count + columns - 1) / columns;
        int W = columns * cellW + pad, H = rows * cellH + pad;
        var sheet = new byte[W * H * 3];
        Array.Fill(sheet, (byte)40);
        var imgs = new SyntheticImage[count];
        Parallel.For(0, count, i => imgs[i] = Render(seed, split, i, size));
        for (int i = 0; i < count; i++)
        {
            int ox = pad + (i % columns) * cellW, oy = pad + (i / columns) * cellH;
            var img = imgs[i];
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                {
                    int src = y * size + x;
                    int dst = ((oy + y) * W + ox + x) * 3;
                    sheet[dst] = img.Rgb[3 * src]; sheet[dst + 1] = img.Rgb[3 * src + 1]; sheet[dst + 2] = img.Rgb[3 * src + 2];
                    byte m = img.Mask[src];
                    var c = m == ClassSet.Ignore ? new Rgb(255, 255, 255) : ClassSet.VocPalette[m];
                    int dm = dst + size * 3;
                    sheet[dm] = c.R; sheet[dm + 1] = c.G; sheet[dm + 2] = c.B;
                }
        }
        return ImageCodec.EncodePngRgb(sheet, W, H, palette);
    }
}
