using FsrNative.Data;
using FsrNative.Data.Synthetic;
using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Data;

[Trait(Categories.Trait, DataCategory.Name)]
public class ReaderTests
{
    [Fact]
    public void SyntheticDatasetReadsAsVoc()
    {
        var train = VocDataset.Open(DataTestSupport.SmallSynthetic, "train_aug");
        var val = VocDataset.Open(DataTestSupport.SmallSynthetic, "val");
        Assert.Equal(40, train.Count);
        Assert.Equal(10, val.Count);
        Assert.Equal(SyntheticDataset.Classes.Names, train.Classes.Names);
        for (int i = 0; i < val.Count; i++)
        {
            var s = val.Load(i, withMask: true);
            Assert.Equal((64, 64), (s.Image.Width, s.Image.Height));
            Assert.Equal(val.Classes.LabelsFromMask(s.Mask!), s.Labels);
            Assert.InRange(s.Labels.Sum(), 1, 3);
            // the rendering agrees with what was written
            Assert.Equal(SyntheticDataset.Render(DataTestSupport.SmallOptions.Seed, "val", i, 64).Mask, s.Mask);
        }
        Assert.Empty(train.Validate());
    }

    [Fact]
    public void LabelCacheIsDerivedFromMasksAndRebuilt()
    {
        string dir = DataTestSupport.CopyOfSmall("labels");
        string cache = Path.Combine(dir, ClassLabelCache.DefaultFileName);
        var fromGenerator = File.ReadAllText(cache);
        File.Delete(cache);
        var ds = VocDataset.Open(dir, "train_aug");
        var labels = ds.AllLabels();
        Assert.True(File.Exists(cache));
        for (int i = 0; i < ds.Count; i++)
        {
            var mask = ImageCodec.LoadMask(ds.MaskPath(i), out _, out _);
            Assert.Equal(ds.Classes.LabelsFromMask(mask), labels[i]);
        }
        // the rebuilt cache (train ids only) holds exactly the generator's lines for those ids
        var lines = File.ReadAllLines(cache).Where(l => !l.StartsWith('#')).ToArray();
        var genLines = fromGenerator.Split('\n').Where(l => l.StartsWith("train_")).ToArray();
        Assert.Equal(genLines, lines);
        // a cache written for another class count is ignored and rebuilt
        File.WriteAllText(cache, "# classes: 3 other\ntrain_000000 1 1 1\n");
        var again = VocDataset.Open(dir, "train_aug").AllLabels();
        Assert.Equal(labels, again);
        // the text format: a malformed line is a typed error naming the file
        File.WriteAllText(cache, "# classes: 6 synthetic\ntrain_000000 1 0 2 0 0 0\n");
        var e = Assert.Throws<DataException>(() => VocDataset.Open(dir, "train_aug").AllLabels());
        Assert.Equal(DataProblem.Malformed, e.Problem);
        Assert.Equal(cache, e.Path);
    }

    [Fact]
    public void VocDefaultsToTheTwentyClassesAndReadsDeepLabStyleLists()
    {
        string dir = DataTestSupport.CopyOfSmall("voc20");
        File.Delete(Path.Combine(dir, "classes.txt"));
        File.Delete(Path.Combine(dir, ClassLabelCache.DefaultFileName));
        File.WriteAllText(VocDataset.ListPath(dir, "train"), "/JPEGImages/train_000001.jpg /SegmentationClassAug/train_000001.png\n\ntrain_000002\n");
        var ds = VocDataset.Open(dir, "train");
        Assert.Equal(20, ds.Classes.NumClasses);
        Assert.Equal(["train_000001", "train_000002"], ds.Ids);
        Assert.Equal(20, ds.Labels(0).Length);
        Assert.Equal("aeroplane", ds.Classes.Names[1]);
    }

    [Fact]
    public void MissingFoldersAndFilesAreTypedErrors()
    {
        var e = Assert.Throws<DataException>(() => VocDataset.Open("/nonexistent/voc", "train_aug"));
        Assert.Equal(DataProblem.MissingFolder, e.Problem);
        Assert.Contains("/nonexistent/voc", e.Message);

        string dir = DataTestSupport.CopyOfSmall("missing");
        e = Assert.Throws<DataException>(() => VocDataset.Open(dir, "nosuchsplit"));
        Assert.Equal(DataProblem.MissingFile, e.Problem);
        Assert.EndsWith("nosuchsplit.txt", e.Path);

        File.Delete(Path.Combine(dir, "JPEGImages", "train_000003.jpg"));
        File.Delete(Path.Combine(dir, "SegmentationClassAug", "train_000005.png"));
        e = Assert.Throws<DataException>(() => VocDataset.Open(dir, "train_aug"));
        Assert.Equal(DataProblem.MissingFile, e.Problem);
        Assert.EndsWith("train_000003.jpg", e.Path);
        Assert.Equal("train_000003", e.SampleId);

        var ds = VocDataset.Open(dir, "train_aug", new DatasetOptions { OnBadSample = OnBadSample.Skip });
        Assert.Equal(38, ds.Count);
        Assert.Equal(["train_000003", "train_000005"], ds.Skipped.Select(b => b.Id).Order());
        Assert.DoesNotContain("train_000003", ds.Ids);

        Directory.Delete(Path.Combine(dir, "SegmentationClassAug"), true);
        e = Assert.Throws<DataException>(() => VocDataset.Open(dir, "train_aug"));
        Assert.Equal(DataProblem.MissingFolder, e.Problem);
        // training needs no masks when the labels are cached
        var noMasks = VocDataset.Open(dir, "train_aug", new DatasetOptions { RequireMasks = false, OnBadSample = OnBadSample.Skip });
        Assert.Equal(39, noMasks.Count);
        Assert.Equal(6, noMasks.Labels(0).Length);
    }

    [Fact]
    public void BadImagesAndMasksAreTypedErrorsThatCanBeSkipped()
    {
        string dir = DataTestSupport.CopyOfSmall("bad");
        string Img(int i) => Path.Combine(dir, "JPEGImages", $"val_{i:D6}.jpg");
        string Msk(int i) => Path.Combine(dir, "SegmentationClassAug", $"val_{i:D6}.png");
        File.WriteAllBytes(Img(1), [0xDE, 0xAD, 0xBE, 0xEF, 1, 2, 3]);                      // undecodable
        var jpg = File.ReadAllBytes(Img(2)); File.WriteAllBytes(Img(2), jpg[..(jpg.Length * 2 / 3)]);   // truncated
        var m = ImageCodec.LoadMask(Msk(3), out int w, out int h); m[5] = 7;                     // label 7 > C = 6
        File.WriteAllBytes(Msk(3), IndexPng.Encode(m, w, h, ClassSet.VocPalette));
        File.WriteAllBytes(Msk(4), IndexPng.Encode(new byte[32 * 64], 64, 32, ClassSet.VocPalette));   // 64x32 vs 64x64
        File.Delete(Path.Combine(dir, ClassLabelCache.DefaultFileName));

        var ds = VocDataset.Open(dir, "val");
        var expected = new (int, DataProblem, string)[]
        {
            (1, DataProblem.Undecodable, Img(1)), (2, DataProblem.Truncated, Img(2)),
            (3, DataProblem.LabelOutOfRange, Msk(3)), (4, DataProblem.SizeMismatch, Msk(4)),
        };
        var labels = VocDataset.Open(dir, "val", new DatasetOptions { OnBadSample = OnBadSample.Skip });
        labels.AllLabels();
        Assert.Equal(["val_000003"], labels.Skipped.Select(b => b.Id));   // only the out-of-range mask stops label derivation
        foreach (var (i, problem, path) in expected)
        {
            var e = Assert.Throws<DataException>(() => labels.Load(i, withMask: true));
            Assert.Equal(problem, e.Problem);
            Assert.Equal(path, e.Path);
            Assert.Equal($"val_{i:D6}", e.SampleId);
            Assert.Contains(Path.GetFileName(path), e.Message);
        }
        var e3 = Assert.Throws<DataException>(() => ds.AllLabels());
        Assert.Equal(DataProblem.LabelOutOfRange, e3.Problem);
        Assert.Contains("label 7", e3.Message);
        var report = ds.Validate();
        Assert.Equal(expected.Select(x => (x.Item1, x.Item2)), report.Select(b => (int.Parse(b.Id[4..]), b.Problem)));
    }

    [Fact]
    public void CocoLayoutReadsIdsFromTheirYearFolders()
    {
        string dir = DataTestSupport.NewTempDir("coco");
        foreach (var sub in new[] { "train2014", "val2014" })
        {
            Directory.CreateDirectory(Path.Combine(dir, "JPEGImages", sub));
            Directory.CreateDirectory(Path.Combine(dir, "SegmentationClass", sub));
        }
        var ids = new[] { "COCO_train2014_000000000009", "COCO_val2014_000000000042" };
        var rgb = new byte[16 * 12 * 3];
        foreach (var id in ids)
        {
            string sub = id.Contains("train") ? "train2014" : "val2014";
            File.WriteAllBytes(Path.Combine(dir, "JPEGImages", sub, id + ".jpg"), ImageCodec.EncodeJpeg(rgb, 16, 12));
            var mask = new byte[16 * 12]; mask[3] = 80; mask[4] = 1; mask[5] = 255;
            File.WriteAllBytes(Path.Combine(dir, "SegmentationClass", sub, id + ".png"), IndexPng.Encode(mask, 16, 12, ClassSet.VocPalette));
        }
        File.WriteAllText(Path.Combine(dir, "val_part.txt"), string.Join("\n", ids));   // no trailing newline, as the reference list
        var ds = CocoDataset.Open(dir, "val_part");
        Assert.Equal(2, ds.Count);
        Assert.Equal(80, ds.Classes.NumClasses);
        var y = ds.Labels(1);
        Assert.Equal(2, y.Sum());
        Assert.Equal(1, y[0]);    // person
        Assert.Equal(1, y[79]);   // toothbrush
        var s = ds.Load(0, withMask: true);
        Assert.Equal(16 * 12, s.Mask!.Length);
    }
}
