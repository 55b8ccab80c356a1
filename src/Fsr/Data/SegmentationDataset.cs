using System.Collections.Concurrent;
using System.Globalization;

namespace FsrNative.Data;

/// <summary>One decoded sample: the RGB image, its mask when asked for, and the image-level label vector (length C).</summary>
public sealed record Sample(int Index, string Id, RgbImage Image, byte[]? Mask, float[] Labels);

/// <summary>Options of the dataset readers.</summary>
public sealed record DatasetOptions
{
    /// <summary>Throw on the first bad sample (default), or leave bad samples out and report them in <see cref="SegmentationDataset.Skipped"/>.</summary>
    public OnBadSample OnBadSample { get; init; } = OnBadSample.Throw;
    /// <summary>The split list to read instead of the layout's default location.</summary>
    public string? ListPath { get; init; }
    /// <summary>Where the image-level label cache lives (default: <c>cls_labels.txt</c> in the dataset root).</summary>
    public string? LabelCachePath { get; init; }
    /// <summary>The class set; default: the root's <c>classes.txt</c> when there is one, else the dataset's own (VOC 20, COCO 80).</summary>
    public ClassSet? Classes { get; init; }
    /// <summary>Whether every listed id must have a mask (true: checked when the dataset is opened).</summary>
    public bool RequireMasks { get; init; } = true;
    /// <summary>The mask folder of a VOC layout (default <c>SegmentationClassAug</c>).</summary>
    public string VocMaskFolder { get; init; } = "SegmentationClassAug";
    /// <summary>Threads used to derive labels from masks and to validate (default: all cores).</summary>
    public int Parallelism { get; init; } = Environment.ProcessorCount;
}

/// <summary>
/// A segmentation dataset on disk: an ordered list of ids, where each id's image and mask live, the class set and
/// the image-level labels (derived from the masks — class c present ⇔ some pixel has value c+1 — and cached in
/// a plain text file, see <see cref="ClassLabelCache"/>). Created by <see cref="VocDataset.Open"/> (PASCAL VOC +
/// SBD, and the synthetic dataset, which uses the same layout) or <see cref="CocoDataset.Open"/>.
/// Thread-safe for concurrent <see cref="Load"/> calls.
/// </summary>
public sealed class SegmentationDataset
{
    readonly string[] _ids;
    readonly Func<string, string> _imagePath, _maskPath;
    float[][]? _labels;
    readonly object _labelLock = new();
    readonly ConcurrentQueue<BadSample> _skipped = new();

    internal SegmentationDataset(string root, string split, ClassSet classes, IEnumerable<string> ids,
        Func<string, string> imagePath, Func<string, string> maskPath, DatasetOptions options)
    {
        Root = root; Split = split; Classes = classes; Options = options;
        _imagePath = imagePath; _maskPath = maskPath;
        var kept = new List<string>();
        foreach (var id in ids)
        {
            string img = imagePath(id);
            DataException? bad = null;
            if (!File.Exists(img)) bad = new DataException(DataProblem.MissingFile, img, $"the split list names '{id}' but its image does not exist") { SampleId = id };
            else if (options.RequireMasks && !File.Exists(maskPath(id)))
                bad = new DataException(DataProblem.MissingFile, maskPath(id), $"the split list names '{id}' but its mask does not exist") { SampleId = id };
            if (bad is null) { kept.Add(id); continue; }
            if (options.OnBadSample == OnBadSample.Throw) throw bad;
            _skipped.Enqueue(BadSample.From(id, bad));
        }
        _ids = kept.ToArray();
    }

    public string Root { get; }
    public string Split { get; }
    public ClassSet Classes { get; }
    public DatasetOptions Options { get; }
    public int Count => _ids.Length;
    public IReadOnlyList<string> Ids => _ids;
    /// <summary>Samples left out so far (with <see cref="OnBadSample.Skip"/>), with the reason.</summary>
    public IReadOnlyList<BadSample> Skipped => _skipped.ToArray();

    public string ImagePath(int index) => _imagePath(_ids[index]);
    public string MaskPath(int index) => _maskPath(_ids[index]);

    /// <summary>Records a bad sample found later (e.g. by the loader) in <see cref="Skipped"/>.</summary>
    internal void Report(BadSample bad) => _skipped.Enqueue(bad);

    /// <summary>The image-level label vector of sample <paramref name="index"/> (length C, 0/1).</summary>
    public float[] Labels(int index) => AllLabels()[index];

    /// <summary>
    /// Every sample's label vector: read from the cache file, derived from the masks for ids the cache lacks (in
    /// parallel), then the cache is rewritten (atomically; skipped when the folder is read-only).
    /// With <see cref="OnBadSample.Skip"/>, a sample whose mask fails gets an all-zero vector and is reported.
    /// </summary>
    public IReadOnlyList<float[]> AllLabels()
    {
        if (_labels is not null) return _labels;
        lock (_labelLock)
        {
            if (_labels is not null) return _labels;
            string cachePath = Options.LabelCachePath ?? Path.Combine(Root, ClassLabelCache.DefaultFileName);
            var cached = File.Exists(cachePath) ? ClassLabelCache.Read(cachePath, Classes.NumClasses) : new Dictionary<string, float[]>();
            var result = new float[_ids.Length][];
            var missing = new List<int>();
            for (int i = 0; i < _ids.Length; i++)
                if (cached.TryGetValue(_ids[i], out var y)) result[i] = y; else missing.Add(i);
            if (missing.Count > 0)
            {
                var errors = new ConcurrentBag<(int, DataException)>();
                Parallel.ForEach(missing, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Options.Parallelism) }, i =>
                {
                    try
                    {
                        string mp = _maskPath(_ids[i]);
                        var mask = ImageCodec.LoadMask(mp, out int w, out _);
                        Classes.CheckMask(mask, w, mp);
                        result[i] = Classes.LabelsFromMask(mask);
                    }
                    catch (DataException e) { errors.Add((i, e.WithSample(_ids[i]))); }
                });
                if (!errors.IsEmpty)
                {
                    var first = errors.OrderBy(e => e.Item1).ToList();
                    if (Options.OnBadSample == OnBadSample.Throw) throw first[0].Item2;
                    foreach (var (i, e) in first) { _skipped.Enqueue(BadSample.From(_ids[i], e)); result[i] = new float[Classes.NumClasses]; }
                }
                foreach (int i in missing) if (!errors.Any(e => e.Item1 == i)) cached[_ids[i]] = result[i];
                try { ClassLabelCache.Write(cachePath, cached, Classes); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* read-only dataset folder: keep the labels in memory */ }
            }
            _labels = result;
            return result;
        }
    }

    /// <summary>Loads sample <paramref name="index"/>: decodes the image (and the mask when <paramref name="withMask"/>),
    /// checks the mask's labels and size. Throws <see cref="DataException"/> naming the file and the sample.</summary>
    public Sample Load(int index, bool withMask = false)
    {
        string id = _ids[index];
        try
        {
            var image = ImageCodec.LoadRgb(_imagePath(id));
            byte[]? mask = null;
            if (withMask) mask = LoadCheckedMask(id, image.Width, image.Height);
            return new Sample(index, id, image, mask, Labels(index));
        }
        catch (DataException e) { throw e.WithSample(id); }
    }

    byte[] LoadCheckedMask(string id, int width, int height)
    {
        string mp = _maskPath(id);
        var mask = ImageCodec.LoadMask(mp, out int mw, out int mh);
        if (mw != width || mh != height)
            throw new DataException(DataProblem.SizeMismatch, mp, $"mask is {mw}x{mh} but image {_imagePath(id)} is {width}x{height}");
        Classes.CheckMask(mask, mw, mp);
        return mask;
    }

    /// <summary>
    /// Decodes every image and mask and checks them (format, truncation, labels, sizes). Returns the bad samples,
    /// in list order; throws nothing for bad data (only for cancellation).
    /// </summary>
    public IReadOnlyList<BadSample> Validate(bool masks = true, CancellationToken cancel = default)
    {
        var bad = new ConcurrentBag<(int, BadSample)>();
        Parallel.For(0, _ids.Length, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Options.Parallelism), CancellationToken = cancel }, i =>
        {
            try
            {
                var image = ImageCodec.LoadRgb(_imagePath(_ids[i]));
                if (masks) LoadCheckedMask(_ids[i], image.Width, image.Height);
            }
            catch (DataException e) { bad.Add((i, BadSample.From(_ids[i], e))); }
        });
        return bad.OrderBy(b => b.Item1).Select(b => b.Item2).ToArray();
    }

    /// <summary>Reads a split list: one id per line; blank lines skipped; a line with paths (as in DeepLab's
    /// <c>/JPEGImages/x.jpg /SegmentationClassAug/x.png</c>) gives the file name of its first path without extension.</summary>
    public static List<string> ReadList(string listPath)
    {
        if (!File.Exists(listPath)) throw new DataException(DataProblem.MissingFile, listPath, "split list not found");
        var ids = new List<string>();
        int lineNo = 0;
        foreach (var raw in File.ReadLines(listPath))
        {
            lineNo++;
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            string first = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0];
            string id = first.Contains('/') || first.Contains('.') && (first.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase) || first.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
                ? Path.GetFileNameWithoutExtension(first) : first;
            if (id.Length == 0 || id.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
                throw new DataException(DataProblem.Malformed, listPath, $"line {lineNo.ToString(CultureInfo.InvariantCulture)}: '{line}' is not an image id");
            ids.Add(id);
        }
        return ids;
    }

    internal static void RequireFolder(string path, string what)
    {
        if (!Directory.Exists(path)) throw new DataException(DataProblem.MissingFolder, path, $"{what} folder not found");
    }
}

/// <summary>
/// PASCAL VOC 2012 + SBD (spec §2.1), and any dataset in its layout (the synthetic one):
/// <c>root/JPEGImages/&lt;id&gt;.jpg</c>, <c>root/SegmentationClassAug/&lt;id&gt;.png</c>,
/// <c>root/ImageSets/Segmentation/&lt;split&gt;.txt</c> (e.g. <c>train_aug</c>, <c>train</c>, <c>val</c>), optional
/// <c>root/classes.txt</c> (else the 20 VOC classes), labels cached in <c>root/cls_labels.txt</c>.
/// </summary>
public static class VocDataset
{
    public static string ListPath(string root, string split) => Path.Combine(root, "ImageSets", "Segmentation", split + ".txt");

    public static SegmentationDataset Open(string root, string split, DatasetOptions? options = null)
    {
        options ??= new DatasetOptions();
        SegmentationDataset.RequireFolder(root, "dataset root");
        string images = Path.Combine(root, "JPEGImages"), masks = Path.Combine(root, options.VocMaskFolder);
        SegmentationDataset.RequireFolder(images, "image (JPEGImages)");
        if (options.RequireMasks) SegmentationDataset.RequireFolder(masks, $"mask ({options.VocMaskFolder})");
        var ids = SegmentationDataset.ReadList(options.ListPath ?? ListPath(root, split));
        string classesFile = Path.Combine(root, "classes.txt");
        var classes = options.Classes ?? (File.Exists(classesFile) ? ClassSet.Load(classesFile, Path.GetFileName(Path.TrimEndingDirectorySeparator(root))) : ClassSet.Voc);
        return new SegmentationDataset(root, split, classes, ids,
            id => Path.Combine(images, id + ".jpg"), id => Path.Combine(masks, id + ".png"), options);
    }
}

/// <summary>
/// MS COCO 2014 with VOC-style label PNGs (spec §2.2): <c>root/JPEGImages/{train2014,val2014}/&lt;id&gt;.jpg</c>,
/// <c>root/SegmentationClass/{train2014,val2014}/&lt;id&gt;.png</c> (0 = background, 1..80, 255 = ignore; written by
/// <see cref="CocoConverter"/>); lists <c>root/ImageSets/&lt;split&gt;.txt</c> or <c>root/&lt;split&gt;.txt</c>
/// (<c>train</c>, <c>val</c>, <c>val_part</c>). An id's subfolder comes from its name (<c>COCO_train2014_…</c>).
/// </summary>
public static class CocoDataset
{
    public static SegmentationDataset Open(string root, string split, DatasetOptions? options = null)
    {
        options ??= new DatasetOptions();
        SegmentationDataset.RequireFolder(root, "dataset root");
        string images = Path.Combine(root, "JPEGImages"), masks = Path.Combine(root, "SegmentationClass");
        SegmentationDataset.RequireFolder(images, "image (JPEGImages)");
        if (options.RequireMasks) SegmentationDataset.RequireFolder(masks, "mask (SegmentationClass)");
        string list = options.ListPath ?? new[] { Path.Combine(root, "ImageSets", split + ".txt"), Path.Combine(root, split + ".txt") }
            .FirstOrDefault(File.Exists) ?? Path.Combine(root, "ImageSets", split + ".txt");
        var ids = SegmentationDataset.ReadList(list);
        string defaultSub = split.StartsWith("train", StringComparison.Ordinal) ? "train2014" : "val2014";
        string Sub(string id) => id.Contains("train2014", StringComparison.Ordinal) ? "train2014" : id.Contains("val2014", StringComparison.Ordinal) ? "val2014" : defaultSub;
        return new SegmentationDataset(root, split, options.Classes ?? ClassSet.Coco, ids,
            id => Path.Combine(images, Sub(id), id + ".jpg"), id => Path.Combine(masks, Sub(id), id + ".png"), options);
    }
}
