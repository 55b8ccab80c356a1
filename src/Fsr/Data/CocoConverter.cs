using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FsrNative.Data;

/// <summary>COCO run-length encoding (column-major runs, starting with zeros), as in pycocotools.</summary>
public static class CocoRle
{
    /// <summary>Decodes the compressed counts string of pycocotools (<c>rleFrString</c>): 5-bit groups in ASCII
    /// from '0' (48), bit 0x20 = more groups follow, sign-extended from bit 0x10, and counts after the third
    /// stored as differences to the count two places back.</summary>
    public static long[] FromString(string s, string path = "<rle>")
    {
        var counts = new List<long>();
        int p = 0;
        while (p < s.Length)
        {
            long x = 0;
            int k = 0;
            bool more = true;
            while (more)
            {
                if (p >= s.Length) throw new DataException(DataProblem.Malformed, path, "compressed RLE string ends inside a count");
                int c = s[p] - 48;
                if (c < 0 || c > 63) throw new DataException(DataProblem.Malformed, path, $"compressed RLE string has character '{s[p]}' at {p}");
                if (k > 11) throw new DataException(DataProblem.Malformed, path, "compressed RLE count too long");
                x |= (long)(c & 0x1f) << (5 * k);
                more = (c & 0x20) != 0;
                p++; k++;
                if (!more && (c & 0x10) != 0) x |= -1L << (5 * k);
            }
            if (counts.Count > 2) x += counts[^2];
            counts.Add(x);
        }
        return counts.ToArray();
    }

    /// <summary>Encodes counts as pycocotools' compressed string (<c>rleToString</c>).</summary>
    public static string ToCompressedString(IReadOnlyList<long> counts)
    {
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < counts.Count; i++)
        {
            long x = counts[i];
            if (i > 2) x -= counts[i - 2];
            bool more = true;
            while (more)
            {
                int c = (int)(x & 0x1f);
                x >>= 5;
                more = (c & 0x10) != 0 ? x != -1 : x != 0;
                if (more) c |= 0x20;
                sb.Append((char)(c + 48));
            }
        }
        return sb.ToString();
    }

    /// <summary>Runs of a row-major 0/1 mask, read column by column (COCO's order), starting with a run of zeros.</summary>
    public static long[] Encode(ReadOnlySpan<byte> mask, int height, int width)
    {
        var counts = new List<long>();
        byte cur = 0;
        long run = 0;
        for (int x = 0; x < width; x++)
            for (int y = 0; y < height; y++)
            {
                byte v = mask[y * width + x] != 0 ? (byte)1 : (byte)0;
                if (v != cur) { counts.Add(run); run = 0; cur = v; }
                run++;
            }
        counts.Add(run);
        return counts.ToArray();
    }

    /// <summary>Sets <paramref name="value"/> in <paramref name="dst"/> (row-major) where the RLE is 1. Counts that
    /// overrun height×width or are negative are errors.</summary>
    public static void Paint(IReadOnlyList<long> counts, int height, int width, Span<byte> dst, byte value, string path = "<rle>")
    {
        long total = (long)height * width, pos = 0;
        for (int i = 0; i < counts.Count; i++)
        {
            long n = counts[i];
            if (n < 0 || pos + n > total) throw new DataException(DataProblem.Malformed, path, $"RLE run {i} ({n}) overruns the {height}x{width} image");
            if ((i & 1) == 1)
                for (long q = pos; q < pos + n; q++) dst[(int)(q % height) * width + (int)(q / height)] = value;
            pos += n;
        }
    }
}

/// <summary>Even-odd polygon filling at pixel centres: pixel (x, y) is inside when (x + 0.5, y + 0.5) is.</summary>
public static class PolygonRaster
{
    /// <summary>Fills the union of <paramref name="polygons"/> (each x0, y0, x1, y1, …, at least 3 points) with <paramref name="value"/>.</summary>
    public static void Fill(IEnumerable<double[]> polygons, int height, int width, Span<byte> dst, byte value)
    {
        var inside = new bool[width * height];
        var xs = new List<double>();
        foreach (var poly in polygons)
        {
            int n = poly.Length / 2;
            if (n < 3) continue;
            var covered = new bool[width * height];
            for (int y = 0; y < height; y++)
            {
                double cy = y + 0.5;
                xs.Clear();
                for (int i = 0; i < n; i++)
                {
                    double x0 = poly[2 * i], y0 = poly[2 * i + 1], x1 = poly[2 * ((i + 1) % n)], y1 = poly[2 * ((i + 1) % n) + 1];
                    if ((y0 <= cy && y1 > cy) || (y1 <= cy && y0 > cy))
                        xs.Add(x0 + (cy - y0) / (y1 - y0) * (x1 - x0));
                }
                xs.Sort();
                for (int k = 0; k + 1 < xs.Count; k += 2)
                {
                    // pixels whose centre lies in [xs[k], xs[k+1])
                    int a = Math.Max(0, (int)Math.Ceiling(xs[k] - 0.5)), b = Math.Min(width - 1, (int)Math.Ceiling(xs[k + 1] - 0.5) - 1);
                    for (int x = a; x <= b; x++) covered[y * width + x] = true;
                }
            }
            for (int i = 0; i < covered.Length; i++) inside[i] |= covered[i];
        }
        for (int i = 0; i < inside.Length; i++) if (inside[i]) dst[i] = value;
    }
}

/// <summary>The parts of an official COCO <c>instances_*.json</c> the converter uses.</summary>
public sealed class CocoInstances
{
    [JsonPropertyName("images")] public List<CocoImageInfo> Images { get; set; } = [];
    [JsonPropertyName("annotations")] public List<CocoAnnotation> Annotations { get; set; } = [];
    [JsonPropertyName("categories")] public List<CocoCategory> Categories { get; set; } = [];
}

public sealed class CocoImageInfo
{
    [JsonPropertyName("id")] public long Id { get; set; }
    [JsonPropertyName("file_name")] public string FileName { get; set; } = "";
    [JsonPropertyName("width")] public int Width { get; set; }
    [JsonPropertyName("height")] public int Height { get; set; }
}

public sealed class CocoCategory
{
    [JsonPropertyName("id")] public int Id { get; set; }
    [JsonPropertyName("name")] public string Name { get; set; } = "";
}

public sealed class CocoAnnotation
{
    [JsonPropertyName("id")] public long Id { get; set; }
    [JsonPropertyName("image_id")] public long ImageId { get; set; }
    [JsonPropertyName("category_id")] public int CategoryId { get; set; }
    [JsonPropertyName("iscrowd")] public int IsCrowd { get; set; }
    [JsonPropertyName("area")] public double Area { get; set; }
    [JsonPropertyName("segmentation")] public CocoSegmentation? Segmentation { get; set; }
}

/// <summary>A segmentation: polygons, or an RLE with counts as numbers (uncompressed) or a string (compressed).</summary>
[JsonConverter(typeof(CocoSegmentationConverter))]
public sealed class CocoSegmentation
{
    public List<double[]>? Polygons { get; set; }
    public long[]? Counts { get; set; }
    public string? CompressedCounts { get; set; }
    public int[]? Size { get; set; }
}

sealed class CocoSegmentationConverter : JsonConverter<CocoSegmentation>
{
    public override CocoSegmentation Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var seg = new CocoSegmentation();
        if (reader.TokenType == JsonTokenType.StartArray)
        {
            seg.Polygons = JsonSerializer.Deserialize<List<double[]>>(ref reader, options) ?? [];
            return seg;
        }
        if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException("segmentation must be a list of polygons or an RLE object");
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            string name = reader.GetString() ?? "";
            reader.Read();
            switch (name)
            {
                case "counts":
                    if (reader.TokenType == JsonTokenType.String) seg.CompressedCounts = reader.GetString();
                    else seg.Counts = JsonSerializer.Deserialize<long[]>(ref reader, options);
                    break;
                case "size": seg.Size = JsonSerializer.Deserialize<int[]>(ref reader, options); break;
                default: reader.Skip(); break;
            }
        }
        return seg;
    }

    public override void Write(Utf8JsonWriter writer, CocoSegmentation value, JsonSerializerOptions options) =>
        throw new NotSupportedException("CocoSegmentation is read-only");
}

/// <summary>What <see cref="CocoConverter.Convert"/> did.</summary>
public sealed record CocoConvertReport(int Images, int Annotations, int CrowdAnnotations, int SkippedAnnotations, IReadOnlyList<string> Problems);

/// <summary>
/// Converts official COCO instance annotations to VOC-style label PNGs (spec §2.2): value 0 = background,
/// 1..N = the file's categories in ascending category-id order (1..80 for COCO 2014), 255 = crowd.
/// Overlaps: non-crowd instances are painted by decreasing area (the annotation's <c>area</c>; ties by id), so
/// a smaller object lying on a larger one stays visible; crowd regions then become 255 where no instance was
/// painted. Polygons are filled at pixel centres (even-odd); RLEs may be uncompressed (numbers) or compressed
/// (pycocotools strings). Output: <c>outDir/&lt;file name without extension&gt;.png</c> for every image (8-bit
/// palette PNGs with the VOC palette), an image without annotations becomes all background.
/// </summary>
public static class CocoConverter
{
    public static CocoInstances Read(string instancesJson)
    {
        if (!File.Exists(instancesJson)) throw new DataException(DataProblem.MissingFile, instancesJson, "COCO annotation file not found");
        try
        {
            using var fs = File.OpenRead(instancesJson);
            return JsonSerializer.Deserialize<CocoInstances>(fs) ?? throw new DataException(DataProblem.Malformed, instancesJson, "empty JSON");
        }
        catch (JsonException e) { throw new DataException(DataProblem.Malformed, instancesJson, $"invalid COCO JSON ({e.Message})", e); }
    }

    public static CocoConvertReport Convert(string instancesJson, string outDir, int parallelism = 0)
        => Convert(Read(instancesJson), outDir, instancesJson, parallelism);

    public static CocoConvertReport Convert(CocoInstances coco, string outDir, string sourceName = "<instances>", int parallelism = 0)
    {
        var catIds = coco.Categories.Select(c => c.Id).Distinct().Order().ToArray();
        if (catIds.Length == 0 || catIds.Length > 254)
            throw new DataException(DataProblem.Malformed, sourceName, $"{catIds.Length} categories; need 1..254");
        var catMap = new Dictionary<int, byte>();
        for (int i = 0; i < catIds.Length; i++) catMap[catIds[i]] = (byte)(i + 1);
        Directory.CreateDirectory(outDir);
        var byImage = coco.Annotations.GroupBy(a => a.ImageId).ToDictionary(g => g.Key, g => g.ToList());
        var problems = new ConcurrentBag<string>();
        int skipped = 0;
        var seenNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var im in coco.Images)
            if (!seenNames.Add(Path.GetFileNameWithoutExtension(im.FileName)))
                throw new DataException(DataProblem.Malformed, sourceName, $"two images named '{im.FileName}'");
        Parallel.ForEach(coco.Images, new ParallelOptions { MaxDegreeOfParallelism = parallelism > 0 ? parallelism : Environment.ProcessorCount }, im =>
        {
            var mask = Rasterize(im, byImage.GetValueOrDefault(im.Id) ?? [], catMap, sourceName, problems, ref skipped);
            File.WriteAllBytes(Path.Combine(outDir, Path.GetFileNameWithoutExtension(im.FileName) + ".png"),
                IndexPng.Encode(mask, im.Width, im.Height, ClassSet.VocPalette));
        });
        return new CocoConvertReport(coco.Images.Count, coco.Annotations.Count, coco.Annotations.Count(a => a.IsCrowd != 0), skipped,
            problems.Order(StringComparer.Ordinal).ToArray());
    }

    /// <summary>The label mask of one image (row-major, <c>Height × Width</c>).</summary>
    public static byte[] Rasterize(CocoImageInfo im, IReadOnlyList<CocoAnnotation> anns, IReadOnlyDictionary<int, byte> catMap, string sourceName,
        ConcurrentBag<string>? problems, ref int skipped)
    {
        if (im.Width <= 0 || im.Height <= 0 || (long)im.Width * im.Height > ImageCodec.MaxPixels)
            throw new DataException(DataProblem.Malformed, sourceName, $"image {im.Id} ('{im.FileName}') has size {im.Width}x{im.Height}");
        var mask = new byte[im.Width * im.Height];
        var crowd = new byte[im.Width * im.Height];
        bool anyCrowd = false;
        foreach (var a in anns.OrderByDescending(a => a.Area).ThenBy(a => a.Id))
        {
            string where = $"{sourceName}: annotation {a.Id} of image {im.Id}";
            if (!catMap.TryGetValue(a.CategoryId, out byte label))
            {
                problems?.Add($"{where}: unknown category {a.CategoryId}, skipped");
                Interlocked.Increment(ref skipped);
                continue;
            }
            try
            {
                if (a.IsCrowd != 0) { Paint(a, im, crowd, 1, where); anyCrowd = true; }
                else Paint(a, im, mask, label, where);
            }
            catch (DataException e)
            {
                problems?.Add($"{e.Message}, skipped");
                Interlocked.Increment(ref skipped);
            }
        }
        if (anyCrowd)
            for (int i = 0; i < mask.Length; i++) if (crowd[i] != 0 && mask[i] == 0) mask[i] = ClassSet.Ignore;
        return mask;
    }

    static void Paint(CocoAnnotation a, CocoImageInfo im, Span<byte> dst, byte value, string where)
    {
        var seg = a.Segmentation ?? throw new DataException(DataProblem.Malformed, where, "no segmentation");
        if (seg.Polygons is not null) { PolygonRaster.Fill(seg.Polygons, im.Height, im.Width, dst, value); return; }
        if (seg.Size is not { Length: 2 } size || size[0] != im.Height || size[1] != im.Width)
            throw new DataException(DataProblem.SizeMismatch, where, $"RLE size [{string.Join(", ", seg.Size ?? [])}] differs from the image's [{im.Height}, {im.Width}]");
        var counts = seg.Counts ?? (seg.CompressedCounts is not null ? CocoRle.FromString(seg.CompressedCounts, where)
            : throw new DataException(DataProblem.Malformed, where, "RLE without counts"));
        CocoRle.Paint(counts, im.Height, im.Width, dst, value, where);
    }
}
