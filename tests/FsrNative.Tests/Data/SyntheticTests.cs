using System.Security.Cryptography;
using FsrNative.Data;
using FsrNative.Data.Synthetic;
using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Data;

[Trait(Categories.Trait, DataCategory.Name)]
public class SyntheticTests
{
    static Dictionary<string, string> Hashes(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(dir, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));

    [Fact]
    public void SameSeedGivesByteIdenticalFilesAndAnotherSeedDoesNot()
    {
        var o = DataTestSupport.SmallOptions with { Train = 12, Val = 4, Parallelism = 2 };
        string a = SyntheticDataset.EnsureAt(Path.Combine(DataTestSupport.NewTempDir("det"), "a"), o);
        string b = SyntheticDataset.EnsureAt(Path.Combine(DataTestSupport.NewTempDir("det"), "b"), o with { Parallelism = 1 });
        var ha = Hashes(a);
        Assert.Equal(ha, Hashes(b));
        Assert.Equal(12 + 4, ha.Keys.Count(k => k.EndsWith(".jpg")));
        string c = SyntheticDataset.EnsureAt(Path.Combine(DataTestSupport.NewTempDir("det"), "c"), o with { Seed = 8 });
        var hc = Hashes(c);
        Assert.NotEqual(ha["JPEGImages/train_000000.jpg"], hc["JPEGImages/train_000000.jpg"]);
    }

    [Fact]
    public void EnsureAtReusesACompleteDatasetAndRefusesAnythingElse()
    {
        string root = DataTestSupport.NewTempDir("ensure");
        var o = DataTestSupport.SmallOptions with { Train = 4, Val = 2 };
        string dir = Path.Combine(root, "ds");
        SyntheticDataset.EnsureAt(dir, o);
        var stamp = File.GetLastWriteTimeUtc(Path.Combine(dir, "JPEGImages", "train_000000.jpg"));
        SyntheticDataset.EnsureAt(dir, o);   // no regeneration
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(Path.Combine(dir, "JPEGImages", "train_000000.jpg")));
        Assert.Empty(Directory.EnumerateDirectories(root, ".ds.tmp-*"));
        var e = Assert.Throws<DataException>(() => SyntheticDataset.EnsureAt(dir, o with { Seed = 99 }));
        Assert.Contains("other options", e.Message);
        // a half-written folder (no marker) is never taken for a dataset
        string half = Path.Combine(root, "half");
        Directory.CreateDirectory(Path.Combine(half, "JPEGImages"));
        e = Assert.Throws<DataException>(() => SyntheticDataset.EnsureAt(half, o));
        Assert.Equal(DataProblem.MissingFile, e.Problem);
    }

    [Fact]
    public void ScenesPoseAWeaklySupervisedProblem()
    {
        // 300 renders at 64 px: statistics of the generator itself.
        const int n = 300;
        var imgs = new SyntheticImage[n];
        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i => imgs[i] = SyntheticDataset.Render(3, "train_aug", i, 64));
        int C = SyntheticDataset.Classes.NumClasses;
        var perClass = new int[C];
        int multi = 0, withIgnore = 0;
        var typical = new Dictionary<int, SceneKind> { [1] = SceneKind.Sky, [2] = SceneKind.Water, [3] = SceneKind.Road, [4] = SceneKind.Grass, [6] = SceneKind.Indoor };
        var onTypical = new int[C + 1]; var total = new int[C + 1];
        foreach (var img in imgs)
        {
            var y = img.Labels;
            Assert.InRange(y.Sum(), 1, 3);
            Assert.Equal(img.ObjectClasses.Distinct().Order(), Enumerable.Range(1, C).Where(c => y[c - 1] != 0));
            if (y.Sum() > 1) multi++;
            if (img.Mask.Contains(ClassSet.Ignore)) withIgnore++;
            foreach (var c in img.ObjectClasses.Distinct())
            {
                total[c]++;
                if (typical.TryGetValue(c, out var s) && img.Scene == s) onTypical[c]++;
            }
            for (int c = 0; c < C; c++) if (y[c] != 0) perClass[c]++;
            // objects are neither tiny nor everything: background stays the largest label overall
            Assert.All(img.Mask, v => Assert.True(v <= C || v == ClassSet.Ignore));
        }
        Assert.All(perClass, k => Assert.InRange(k, n / 12, n * 2 / 3));
        Assert.InRange(multi, n / 5, n * 4 / 5);
        Assert.Equal(n, withIgnore);
        foreach (var (c, _) in typical)   // co-occurrence bias: each class mostly on its typical background
            Assert.True(onTypical[c] > 0.6 * total[c], $"class {c}: {onTypical[c]} of {total[c]} on its typical scene");
    }

    [Fact]
    public void IgnoreBandSeparatesEveryObjectFromItsSurroundings()
    {
        for (int i = 0; i < 20; i++)
        {
            var img = SyntheticDataset.Render(11, "val", i, 96);
            int s = img.Size;
            for (int y = 0; y < s; y++)
                for (int x = 0; x + 1 < s; x++)
                {
                    byte a = img.Mask[y * s + x], b = img.Mask[y * s + x + 1];
                    // two different labels never touch directly: a 255 band lies between them
                    if (a != ClassSet.Ignore && b != ClassSet.Ignore) Assert.Equal(a, b);
                }
        }
    }
}
