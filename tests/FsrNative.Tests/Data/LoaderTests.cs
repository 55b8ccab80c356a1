using System.Diagnostics;
using FsrNative.Data;
using FsrNative.Data.Loading;
using FsrNative.Data.Transforms;
using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Data;

[Trait(Categories.Trait, DataCategory.Name)]
public class LoaderTests
{
    static readonly TrainTransform Train32 = new(new AugmentOptions { Size = 32 });

    static SegmentationDataset Small(string split = "train_aug", OnBadSample onBad = OnBadSample.Throw, string? dir = null) =>
        VocDataset.Open(dir ?? DataTestSupport.SmallSynthetic, split, new DatasetOptions { OnBadSample = onBad });

    /// <summary>What a batch holds, as host arrays, to compare batches across loaders.</summary>
    static (string[] ids, float[] v0, float[] v1, float[] labels) Snap(Batch b) =>
        (b.Ids, b.Views[0].ToArray(), b.Views[1].ToArray(), b.Labels.ToArray());

    static void SameBatch((string[] ids, float[] v0, float[] v1, float[] labels) a, (string[] ids, float[] v0, float[] v1, float[] labels) b)
    {
        Assert.Equal(a.ids, b.ids); Assert.Equal(a.v0, b.v0); Assert.Equal(a.v1, b.v1); Assert.Equal(a.labels, b.labels);
    }

    [Fact]
    public void BatchesAreTensorsOfTheRightShapesAndLabels()
    {
        var ds = Small("val");
        using var loader = new DataLoader(ds, Train32, new LoaderOptions { BatchSize = 4, Seed = 1, Workers = 2, WithMasks = true, Epochs = 1 });
        Assert.Equal(2, loader.BatchesPerEpoch);   // 10 samples, drop-last
        var seen = new List<int>();
        foreach (var b in loader)
        {
            using (b)
            {
                Assert.Equal([4, 3, 32, 32], b.Views[0].shape);
                Assert.Equal([4, 3, 32, 32], b.Views[1].shape);
                Assert.Equal([4, 6], b.Labels.shape);
                Assert.Equal(DType.Int32, b.Masks![0].DType);
                Assert.Equal([4, 32, 32], b.Masks[1].shape);
                var labels = b.Labels.ToArray();
                for (int k = 0; k < 4; k++)
                {
                    Assert.Equal(ds.Labels(b.Indices[k]), labels.AsSpan(k * 6, 6).ToArray());
                    Assert.Equal(ds.Ids[b.Indices[k]], b.Ids[k]);
                }
                Assert.All(b.Masks[0].ToIntArray(), v => Assert.True(v is >= 0 and <= 6 or 255));
                seen.AddRange(b.Indices);
            }
        }
        Assert.Equal(8, seen.Distinct().Count());
        Assert.False(loader.HasNext);
        Assert.Throws<InvalidOperationException>(() => loader.Next());
    }

    [Fact]
    public void OrderAndContentDoNotDependOnThreads()
    {
        var ds = Small();
        List<(string[], float[], float[], float[])> Run(int workers, int prefetch)
        {
            using var l = new DataLoader(ds, Train32, new LoaderOptions { BatchSize = 8, Seed = 3, Workers = workers, Prefetch = prefetch, Epochs = 2 });
            return l.Select(b => { using (b) return Snap(b); }).ToList();
        }
        var one = Run(1, 1);
        var many = Run(3, 5);
        Assert.Equal(10, one.Count);   // 2 epochs × 5 batches
        for (int i = 0; i < one.Count; i++) SameBatch(one[i], many[i]);
    }

    [Fact]
    public void EpochsAreShuffledPermutationsAndDropLastDrops()
    {
        var ds = Small();
        using var l = new DataLoader(ds, Train32, new LoaderOptions { BatchSize = 6, Seed = 9, Workers = 1, Epochs = 0 });
        Assert.Equal(6, l.BatchesPerEpoch);   // 40 / 6
        var e0 = l.EpochOrder(0); var e1 = l.EpochOrder(1);
        Assert.Equal(Enumerable.Range(0, 40), e0.Order());
        Assert.Equal(Enumerable.Range(0, 40), e1.Order());
        Assert.NotEqual(e0, e1);
        Assert.NotEqual(Enumerable.Range(0, 40), e0);
        using var noShuffle = new DataLoader(ds, Train32, new LoaderOptions { BatchSize = 6, Shuffle = false, DropLast = false, Workers = 1, Epochs = 1 });
        Assert.Equal(7, noShuffle.BatchesPerEpoch);
        var sizes = noShuffle.Select(b => { using (b) return b.Count; }).ToList();
        Assert.Equal([6, 6, 6, 6, 6, 6, 4], sizes);
        Assert.Throws<ArgumentException>(() => new DataLoader(Small("val"), Train32, new LoaderOptions { BatchSize = 11 }));
    }

    [Fact]
    public void ResumingFromASavedStateContinuesTheSameSequence()
    {
        var ds = Small();
        var o = new LoaderOptions { BatchSize = 8, Seed = 21, Workers = 2 };
        var reference = new List<(string[], float[], float[], float[])>();
        LoaderState saved = default;
        using (var l = new DataLoader(ds, Train32, o))
        {
            for (int i = 0; i < 12; i++)
            {
                if (i == 7) saved = l.State;
                using var b = l.Next();
                reference.Add(Snap(b));
            }
        }
        Assert.Equal(new LoaderState(1, 2), saved);   // 5 batches per epoch
        Assert.Equal(saved, LoaderState.Parse(saved.ToString()));
        using var resumed = new DataLoader(ds, Train32, o, LoaderState.Parse(saved.ToString()));
        for (int i = 7; i < 12; i++)
        {
            using var b = resumed.Next();
            Assert.Equal((i / 5, i % 5), (b.Epoch, b.Position));
            SameBatch(reference[i], Snap(b));
        }
    }

    [Fact]
    public void AWorkerFailureSurfacesOnTheConsumerNamingTheSample()
    {
        string dir = DataTestSupport.CopyOfSmall("loader-bad");
        File.WriteAllBytes(Path.Combine(dir, "JPEGImages", "train_000017.jpg"), [0xFF, 0xD8, 0xFF, 0x00, 0x12]);
        var ds = Small(dir: dir);
        using var l = new DataLoader(ds, Train32, new LoaderOptions { BatchSize = 8, Seed = 5, Workers = 2, Shuffle = false, Epochs = 1 });
        using (var b0 = l.Next()) Assert.Equal(8, b0.Count);
        using (var b1 = l.Next()) Assert.Equal(8, b1.Count);
        var e = Assert.Throws<DataLoaderException>(() => l.Next());   // batch 2 holds samples 16..23
        Assert.Equal(17, e.SampleIndex);
        Assert.Equal("train_000017", e.SampleId);
        Assert.Contains("train_000017", e.Message);
        var inner = Assert.IsType<DataException>(e.InnerException);
        Assert.Equal(DataProblem.Truncated, inner.Problem);
    }

    [Fact]
    public void SkippingReplacesBadSamplesDeterministicallyAndReportsThem()
    {
        string dir = DataTestSupport.CopyOfSmall("loader-skip");
        File.WriteAllBytes(Path.Combine(dir, "JPEGImages", "train_000004.jpg"), [1, 2, 3]);
        var ds = Small(onBad: OnBadSample.Skip, dir: dir);
        List<string[]> Run(int workers)
        {
            using var l = new DataLoader(ds, Train32, new LoaderOptions { BatchSize = 8, Seed = 5, Workers = workers, Epochs = 1, OnBadSample = OnBadSample.Skip });
            var ids = l.Select(b => { using (b) return b.Ids; }).ToList();
            Assert.Equal(["train_000004"], l.BadSamples.Select(x => x.Id));
            return ids;
        }
        var a = Run(1);
        Assert.All(a, ids => Assert.Equal(8, ids.Length));
        Assert.DoesNotContain("train_000004", a.SelectMany(x => x));
        Assert.Equal(a, Run(3));
        Assert.Contains(ds.Skipped, x => x.Id == "train_000004" && x.Problem == DataProblem.Undecodable);
    }

    [Fact]
    public void CancellationAndDisposeStopPromptly()
    {
        var ds = Small();
        var slow = new SlowTransform(Train32, TimeSpan.FromMilliseconds(150));
        var l = new DataLoader(ds, slow, new LoaderOptions { BatchSize = 8, Seed = 1, Workers = 2, Prefetch = 2 });
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        Assert.ThrowsAny<OperationCanceledException>(() => l.Next(cts.Token));
        var sw = Stopwatch.StartNew();
        l.Dispose();
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"dispose took {sw.Elapsed}");
        Assert.Throws<ObjectDisposedException>(() => l.Next());
        l.Dispose();   // idempotent
    }

    [Fact]
    public void EvalLoaderGivesOriginalSizeMasksInListOrder()
    {
        var ds = Small("val");
        using var l = new DataLoader(ds, new EvalTransform(48), new LoaderOptions { BatchSize = 3, Shuffle = false, DropLast = false, Workers = 2, WithMasks = true, Epochs = 1 });
        var ids = new List<string>();
        foreach (var b in l)
            using (b)
            {
                Assert.Single(b.Views);
                Assert.Equal([b.Count, 3, 48, 48], b.Images.shape);
                Assert.Equal([b.Count, 64, 64], b.Masks![0].shape);
                var m = b.Masks[0].ToIntArray();
                for (int k = 0; k < b.Count; k++)
                {
                    var truth = ds.Load(b.Indices[k], withMask: true).Mask!;
                    Assert.Equal(truth.Select(x => (int)x), m.AsSpan(k * 64 * 64, 64 * 64).ToArray());
                }
                ids.AddRange(b.Ids);
            }
        Assert.Equal(ds.Ids, ids);
    }

    sealed class SlowTransform(ISampleTransform inner, TimeSpan delay) : ISampleTransform
    {
        public int ViewCount => inner.ViewCount;
        public ViewData[] Apply(Sample sample, ulong seed, long epoch) { Thread.Sleep(delay); return inner.Apply(sample, seed, epoch); }
    }
}
