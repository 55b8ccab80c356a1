using FsrNative.Data;
using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Data;

[Trait(Categories.Trait, DataCategory.Name)]
public class CocoTests
{
    [Theory]
    // Worked by hand from pycocotools' rleToString: each count in 5-bit groups + 48, bit 0x20 = more follow;
    // counts after the third are stored minus the count two places back (3 - 2 → -1 → 31 → 'O').
    [InlineData(new long[] { 0, 4 }, "04")]
    [InlineData(new long[] { 3, 2, 5, 1 }, "325O")]
    [InlineData(new long[] { 100, 1 }, "T31")]          // 100 = 4 + 3·32: 'T' (4 | 0x20) then '3'
    [InlineData(new long[] { 5, 40, 7, 40 }, "5X170")]   // 40 = 8 + 1·32: 'X' (8 | 0x20) then '1'; the 4th is 40 − 40 = 0
    [InlineData(new long[] { 0, 2, 0, 2 }, "0200")]      // the 4th is stored as 2 − 2 = 0
    public void CompressedRleStringsFollowPycocotools(long[] counts, string s)
    {
        Assert.Equal(s, CocoRle.ToCompressedString(counts));
        Assert.Equal(counts, CocoRle.FromString(s));
    }

    [Fact]
    public void RleRoundTripsThroughMasksInColumnMajorOrder()
    {
        var rng = new RandomKey(1, 0, 0, 0).Open();
        for (int t = 0; t < 50; t++)
        {
            int h = rng.NextInt(1, 20), w = rng.NextInt(1, 20);
            var mask = new byte[h * w];
            for (int i = 0; i < mask.Length; i++) mask[i] = (byte)(rng.NextFloat() < 0.3 ? 1 : 0);
            var counts = CocoRle.Encode(mask, h, w);
            Assert.Equal(h * w, counts.Sum());
            var back = new byte[h * w];
            CocoRle.Paint(CocoRle.FromString(CocoRle.ToCompressedString(counts)), h, w, back, 1);
            Assert.Equal(mask, back);
        }
        // column-major: counts [2, 3] on a 2x3 image cover (0,1), (1,1), (0,2)
        var m = new byte[6];
        CocoRle.Paint([2, 3], 2, 3, m, 9);
        Assert.Equal(new byte[] { 0, 9, 9, 0, 9, 0 }, m);
        Assert.Throws<DataException>(() => CocoRle.Paint([2, 30], 2, 3, m, 9));
        Assert.Throws<DataException>(() => CocoRle.FromString("0\u0010"));
        Assert.Throws<DataException>(() => CocoRle.FromString("T"));   // ends inside a count
    }

    [Fact]
    public void PolygonsFillPixelCentres()
    {
        var m = new byte[10 * 10];
        PolygonRaster.Fill([[2, 1, 6, 1, 6, 4, 2, 4]], 10, 10, m, 3);   // rectangle x∈[2,6), y∈[1,4)
        for (int y = 0; y < 10; y++)
            for (int x = 0; x < 10; x++)
                Assert.Equal(x is >= 2 and < 6 && y is >= 1 and < 4 ? 3 : 0, m[y * 10 + x]);
        var t = new byte[10 * 10];
        PolygonRaster.Fill([[0, 0, 10, 0, 0, 10]], 10, 10, t, 1);   // triangle below the anti-diagonal
        for (int y = 0; y < 10; y++)
            for (int x = 0; x < 10; x++)
                Assert.Equal(x + 0.5 + y + 0.5 < 10 ? 1 : 0, t[y * 10 + x]);
    }

    const string Json = """
    {
      "info": {"description": "test"},
      "images": [
        {"id": 9, "file_name": "COCO_val2014_000000000009.jpg", "width": 8, "height": 6},
        {"id": 10, "file_name": "COCO_val2014_000000000010.jpg", "width": 4, "height": 4}
      ],
      "categories": [
        {"id": 90, "name": "toothbrush", "supercategory": "x"},
        {"id": 1, "name": "person", "supercategory": "x"},
        {"id": 18, "name": "dog", "supercategory": "x"}
      ],
      "annotations": [
        {"id": 1, "image_id": 9, "category_id": 1, "iscrowd": 0, "area": 24.0, "bbox": [0,0,6,4],
         "segmentation": [[0, 0, 6, 0, 6, 4, 0, 4]]},
        {"id": 2, "image_id": 9, "category_id": 18, "iscrowd": 0, "area": 4.0, "bbox": [4,2,2,2],
         "segmentation": {"size": [6, 8], "counts": [26, 2, 4, 2, 14]}},
        {"id": 3, "image_id": 9, "category_id": 90, "iscrowd": 0, "area": 2.0, "bbox": [0,0,1,2],
         "segmentation": {"size": [6, 8], "counts": "02"}},
        {"id": 4, "image_id": 9, "category_id": 1, "iscrowd": 1, "area": 12.0, "bbox": [6,0,2,6],
         "segmentation": {"size": [6, 8], "counts": [30, 18]}},
        {"id": 5, "image_id": 9, "category_id": 77, "iscrowd": 0, "area": 1.0, "segmentation": [[0,0,1,0,1,1]]}
      ]
    }
    """;

    [Fact]
    public void ConverterWritesVocStyleMasks()
    {
        string dir = DataTestSupport.NewTempDir("coco-convert");
        string json = Path.Combine(dir, "instances_val2014.json");
        File.WriteAllText(json, Json);
        string outDir = Path.Combine(dir, "SegmentationClass", "val2014");
        var report = CocoConverter.Convert(json, outDir);
        Assert.Equal((2, 5, 1, 1), (report.Images, report.Annotations, report.CrowdAnnotations, report.SkippedAnnotations));
        Assert.Contains(report.Problems, p => p.Contains("unknown category 77"));

        var m = ImageCodec.LoadMask(Path.Combine(outDir, "COCO_val2014_000000000009.png"), out int w, out int h);
        Assert.Equal((8, 6), (w, h));
        // categories sorted by id: person (1) → 1, dog (18) → 2, toothbrush (90) → 3
        var expect = new byte[6, 8];
        for (int y = 0; y < 4; y++) for (int x = 0; x < 6; x++) expect[y, x] = 1;        // the person polygon (largest, painted first)
        for (int y = 2; y < 4; y++) for (int x = 4; x < 6; x++) expect[y, x] = 2;        // uncompressed RLE: columns 4 and 5, rows 2..3
        expect[0, 0] = 3; expect[1, 0] = 3;                                              // compressed "02" = [0, 2]: column 0, rows 0..1
        for (int y = 0; y < 6; y++)                                                      // crowd RLE over columns 5..7: 255 where no instance lies
            for (int x = 5; x < 8; x++) if (expect[y, x] == 0) expect[y, x] = 255;
        for (int y = 0; y < 6; y++)
            for (int x = 0; x < 8; x++)
                Assert.True(expect[y, x] == m[y * 8 + x], $"pixel ({x}, {y}): expected {expect[y, x]}, got {m[y * 8 + x]}");
        var empty = ImageCodec.LoadMask(Path.Combine(outDir, "COCO_val2014_000000000010.png"), out _, out _);
        Assert.All(empty, v => Assert.Equal(0, v));
    }

    [Fact]
    public void ConverterErrorsAreTyped()
    {
        string dir = DataTestSupport.NewTempDir("coco-bad");
        var e = Assert.Throws<DataException>(() => CocoConverter.Convert(Path.Combine(dir, "none.json"), dir));
        Assert.Equal(DataProblem.MissingFile, e.Problem);
        string bad = Path.Combine(dir, "bad.json");
        File.WriteAllText(bad, "{\"images\": [1, 2");
        e = Assert.Throws<DataException>(() => CocoConverter.Convert(bad, dir));
        Assert.Equal(DataProblem.Malformed, e.Problem);
        Assert.Equal(bad, e.Path);
    }
}
