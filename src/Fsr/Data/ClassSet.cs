namespace FsrNative.Data;

/// <summary>
/// The label space of a dataset: index 0 is the background, 1..C the foreground classes, 255 the ignore value.
/// Image-level label vectors have length C (background excluded): entry c is class c+1 of the masks.
/// </summary>
public sealed class ClassSet
{
    /// <summary>The mask value of pixels that are ignored (object boundaries, crowd regions, void).</summary>
    public const byte Ignore = 255;

    public ClassSet(string name, IReadOnlyList<string> namesWithBackground)
    {
        if (namesWithBackground.Count < 2 || namesWithBackground.Count > 255)
            throw new ArgumentException($"class set '{name}': {namesWithBackground.Count} names; need the background plus 1..254 classes");
        Name = name;
        Names = namesWithBackground.ToArray();
    }

    public string Name { get; }
    /// <summary>All names, background first (K = C + 1 entries).</summary>
    public IReadOnlyList<string> Names { get; }
    /// <summary>C: the number of foreground classes (the length of an image-level label vector).</summary>
    public int NumClasses => Names.Count - 1;
    /// <summary>K = C + 1: the number of mask labels including the background.</summary>
    public int NumLabels => Names.Count;
    /// <summary>The VOC colour map (256 entries), used for every dataset's PNGs.</summary>
    public static IReadOnlyList<Rgb> Palette => VocPalette;

    /// <summary>The PASCAL VOC colour map: the bits of the index spread over R, G, B from the most significant bit down.</summary>
    public static readonly Rgb[] VocPalette = BuildVocPalette();

    static Rgb[] BuildVocPalette()
    {
        var p = new Rgb[256];
        for (int i = 0; i < 256; i++)
        {
            int r = 0, g = 0, b = 0, c = i;
            for (int j = 0; j < 8; j++)
            {
                r |= (c & 1) << (7 - j);
                g |= ((c >> 1) & 1) << (7 - j);
                b |= ((c >> 2) & 1) << (7 - j);
                c >>= 3;
            }
            p[i] = new Rgb((byte)r, (byte)g, (byte)b);
        }
        return p;
    }

    /// <summary>PASCAL VOC 2012: background + 20 classes in the usual alphabetical order (spec §2.1).</summary>
    public static ClassSet Voc { get; } = new("voc", [
        "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
        "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor"]);

    /// <summary>The 80 COCO categories in ascending category-id order (mask value i ↔ the i-th category), spec §2.2.</summary>
    public static ClassSet Coco { get; } = new("coco", ["background", .. CocoNames]);

    /// <summary>The official COCO category ids of the 80 categories, in order (1..90 with gaps).</summary>
    public static IReadOnlyList<int> CocoCategoryIds { get; } = [
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28, 31, 32, 33, 34,
        35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63,
        64, 65, 67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90];

    static string[] CocoNames => [
        "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
        "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
        "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
        "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
        "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
        "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
        "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone",
        "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors", "teddy bear",
        "hair drier", "toothbrush"];

    /// <summary>
    /// Reads a class list: one name per line, the background first; blank lines and lines starting with '#' are
    /// skipped. This is the <c>classes.txt</c> a dataset root may carry (the synthetic dataset writes one).
    /// </summary>
    public static ClassSet Load(string path, string name)
    {
        if (!File.Exists(path)) throw new DataException(DataProblem.MissingFile, path, "class list not found");
        var names = File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        if (names.Count < 2 || names.Count > 255)
            throw new DataException(DataProblem.Malformed, path, $"{names.Count} class names; need the background plus 1..254 classes");
        return new ClassSet(name, names);
    }

    public void Save(string path) =>
        File.WriteAllText(path, "# class names, one per line, mask value = line number (background = 0); 255 = ignore\n" + string.Join("\n", Names) + "\n");

    /// <summary>Throws unless every value of <paramref name="mask"/> is in 0..C or 255.</summary>
    public void CheckMask(ReadOnlySpan<byte> mask, int width, string path)
    {
        int k = NumLabels;
        for (int i = 0; i < mask.Length; i++)
        {
            byte v = mask[i];
            if (v >= k && v != Ignore)
                throw new DataException(DataProblem.LabelOutOfRange, path,
                    $"pixel ({i % width}, {i / width}) has label {v}; valid labels are 0..{k - 1} and {Ignore} ({Name}: {NumClasses} classes)");
        }
    }

    /// <summary>The image-level multi-hot vector of a mask: entry c is 1 iff some pixel has label c+1.</summary>
    public float[] LabelsFromMask(ReadOnlySpan<byte> mask)
    {
        Span<bool> present = stackalloc bool[256];
        foreach (byte v in mask) present[v] = true;
        var y = new float[NumClasses];
        for (int c = 0; c < NumClasses; c++) y[c] = present[c + 1] ? 1f : 0f;
        return y;
    }
}
