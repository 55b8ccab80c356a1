using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Engine;

/// <summary>The CPU caching allocator's policy on private pools (no process-wide state: safe beside other tests):
/// best-fit reuse, the budget tied to the peak, least-recently-released eviction, the collect hook, the counters.</summary>
[Trait(Categories.Trait, EngineCategory.Name)]
public class CpuMemoryPoolTests
{
    const int K = 4096;   // bucket granularity between 4 K and 1 M elements

    sealed class Recorder
    {
        public readonly List<int> Fresh = [];
        public int Collects;
        public CpuMemoryPool Pool(long minBudget = 0)
        {
            var pool = new CpuMemoryPool(n => { Fresh.Add(n); return new float[n]; }) { MinBudgetBytes = minBudget };
            pool.Collect = () => Collects++;
            return pool;
        }
    }

    [Fact]
    public void BucketsRoundUpWithBoundedWaste()
    {
        Assert.Equal(64, CpuMemoryPool.BucketSize(0));
        Assert.Equal(64, CpuMemoryPool.BucketSize(64));
        Assert.Equal(128, CpuMemoryPool.BucketSize(65));
        Assert.Equal(4096, CpuMemoryPool.BucketSize(4096));
        Assert.Equal(3 * K, CpuMemoryPool.BucketSize(2 * K + 1));
        Assert.Equal(1 << 20, CpuMemoryPool.BucketSize(1 << 20));
        Assert.Equal((1 << 20) + (1 << 17), CpuMemoryPool.BucketSize((1 << 20) + 1));   // 1/16 of 2 M
        foreach (int n in new[] { 5000, 100_000, 1_000_001, 3_000_000, 50_000_000, 1_500_000_000 })
        {
            int b = CpuMemoryPool.BucketSize(n);
            Assert.InRange(b, n, n + n / 8 + K);
        }
    }

    [Fact]
    public void ExactBucketIsReusedWithoutTouchingTheSystem()
    {
        var r = new Recorder();
        var pool = r.Pool(minBudget: long.MaxValue);
        var a = pool.Rent(10 * K - 3);
        pool.Return(a);
        var b = pool.Rent(10 * K);
        Assert.Same(a, b);
        Assert.Single(r.Fresh);
        var s = pool.Stats;
        Assert.Equal(1, s.CacheHits);
        Assert.Equal(1, s.CacheMisses);
        Assert.Equal(4L * 10 * K, s.BytesInUse);
        Assert.Equal(0, s.BytesCached);
    }

    [Fact]
    public void BestFitTakesTheSmallestLargerArrayWithinTheReuseFactor()
    {
        var r = new Recorder();
        var pool = r.Pool(minBudget: long.MaxValue);
        pool.MaxReuseFactor = 2.0;
        float[] big = pool.Rent(40 * K), mid = pool.Rent(24 * K), tooBig = pool.Rent(100 * K);
        pool.Return(big);
        pool.Return(mid);
        pool.Return(tooBig);

        Assert.Same(mid, pool.Rent(16 * K));       // 24 K is the smallest cached bucket ≥ 16 K and ≤ 32 K
        Assert.Same(big, pool.Rent(20 * K));       // 40 K ≤ 2 × 20 K
        var fresh = pool.Rent(30 * K);              // only 100 K is left: more than twice the request
        Assert.Equal(30 * K, fresh.Length);
        Assert.Equal(4, r.Fresh.Count);
        // In-use bytes count the arrays handed out (capacity), not the requests.
        Assert.Equal(4L * (24 + 40 + 30) * K, pool.Stats.BytesInUse);
        Assert.Equal(4L * 100 * K, pool.Stats.BytesCached);
    }

    [Fact]
    public void ReuseFactorOneMeansExactBucketsOnly()
    {
        var r = new Recorder();
        var pool = r.Pool(minBudget: long.MaxValue);
        pool.MaxReuseFactor = 1.0;
        pool.Return(pool.Rent(9 * K));
        Assert.Equal(8 * K, pool.Rent(8 * K).Length);
        Assert.Equal(2, r.Fresh.Count);
    }

    [Fact]
    public void BudgetEvictsTheLeastRecentlyReleasedBeforeGoingToTheSystem()
    {
        var r = new Recorder();
        var pool = r.Pool();
        pool.BudgetFactor = 1.5;
        pool.MaxReuseFactor = 1.0;
        pool.CollectAfterEvictedBytes = long.MaxValue;
        float[] a = pool.Rent(10 * K), b = pool.Rent(20 * K), c = pool.Rent(40 * K);   // peak 70 K elements: budget 105 K
        pool.Return(b);
        pool.Return(a);
        pool.Return(c);
        Assert.Equal(4L * 70 * K, pool.Stats.BytesCached);

        // 70 K cached + 45 K > 105 K and no cached array is large enough: the oldest release (b, 20 K) is dropped,
        // then 50 K + 45 K fits.
        var d = pool.Rent(45 * K);
        Assert.Equal(45 * K, d.Length);
        Assert.Equal(4L * 50 * K, pool.Stats.BytesCached);
        Assert.Equal((1L, 4L * 20 * K, 0), pool.Evicted);
        Assert.Same(a, pool.Rent(10 * K));
        Assert.Same(c, pool.Rent(40 * K));
        Assert.Equal(4L * 95 * K, pool.PeakEverBytes);
    }

    [Fact]
    public void BudgetNeverDropsBelowTheFloor()
    {
        var r = new Recorder();
        var pool = r.Pool(minBudget: 4L * 100 * K);
        pool.BudgetFactor = 1.0;
        pool.MaxReuseFactor = 1.0;
        pool.Return(pool.Rent(40 * K));
        pool.Return(pool.Rent(50 * K));            // 90 K cached, under the 100 K floor: nothing dropped
        Assert.Equal(0, pool.Evicted.Arrays);
        Assert.Equal(4L * 90 * K, pool.Stats.BytesCached);
        pool.Rent(60 * K);                           // 90 K + 60 K > max(floor 100 K, 60 K), nothing large enough: 40 K then 50 K go
        Assert.Equal(2, pool.Evicted.Arrays);
        Assert.Equal(0, pool.Stats.BytesCached);
    }

    [Fact]
    public void CollectRunsOnceEnoughBytesWereDropped()
    {
        var r = new Recorder();
        var pool = r.Pool();
        pool.BudgetFactor = 1.0;
        pool.MaxReuseFactor = 1.0;
        pool.CollectAfterEvictedBytes = 4L * 50 * K;
        pool.Return(pool.Rent(30 * K));
        pool.Rent(31 * K);                           // drops 30 K: below the threshold
        Assert.Equal(0, r.Collects);
        var x = pool.Rent(32 * K);                   // new peak; nothing cached to drop
        pool.Return(x);
        pool.Rent(60 * K);                           // 31 K in use + 32 K cached + 60 K > 1.0 × 91 K: drops 32 K (62 K total)
        Assert.Equal(1, r.Collects);
        Assert.Equal(1, pool.Evicted.Collections);

        pool.Return(pool.Rent(8 * K));
        pool.EmptyCache();                           // emptying a non-empty cache also collects
        Assert.Equal(2, r.Collects);
        Assert.Equal(0, pool.Stats.BytesCached);
    }

    [Fact]
    public void CacheLimitDropsReleasedArraysBeyondIt()
    {
        var r = new Recorder();
        var pool = r.Pool(minBudget: long.MaxValue);
        pool.CacheLimitBytes = 4L * 15 * K;
        float[] a = pool.Rent(10 * K), b = pool.Rent(10 * K);
        pool.Return(a);
        pool.Return(b);                              // would make 20 K cached
        Assert.Equal(4L * 10 * K, pool.Stats.BytesCached);
        Assert.Equal(1, pool.Evicted.Arrays);
        Assert.Equal(0, pool.Stats.BytesInUse);
    }

    [Fact]
    public void PeakCountersResetAndFollow()
    {
        var pool = new Recorder().Pool(minBudget: long.MaxValue);
        var a = pool.Rent(50 * K);
        var b = pool.Rent(10 * K);
        pool.Return(a);
        Assert.Equal(4L * 60 * K, pool.Stats.PeakBytes);
        pool.ResetPeak();
        Assert.Equal(4L * 10 * K, pool.Stats.PeakBytes);
        Assert.Equal(4L * 60 * K, pool.PeakEverBytes);   // the budget's peak is not reset
        pool.Return(b);
        Assert.Equal(0, pool.Stats.BytesInUse);
    }

    /// <summary>A storage on a reused, longer array behaves exactly as a fresh one: every op reads the storage's length
    /// and the tensor's shape, never the array's length (the tail of a reused array holds stale values: here NaNs).</summary>
    [Fact]
    public void TensorsOnLongerReusedArraysBehaveAsFresh()
    {
        const int n = 64 * K;
        using var scope = torch.NewDisposeScope();
        var values = Enumerable.Range(0, n).Select(i => MathF.Sin(i * 0.01f)).ToArray();
        var fresh = torch.tensor(values, 512, 512);
        var array = CpuAllocator.Rent(96 * K);                       // a longer array, as best fit hands out
        Array.Fill(array, float.NaN);
        var reused = Tensor.FromStorage(new CpuStorage(array, n), [512, 512], DType.Float32);
        values.CopyTo(reused.AsSpan());

        Assert.Equal(n, reused.AsSpan().Length);
        Assert.Equal(fresh.ToArray(), reused.ToArray());
        Assert.Equal(fresh.sum().item(), reused.sum().item());
        Assert.Equal(fresh.max().item(), reused.max().item());
        Assert.Equal(fresh.softmax(1).ToArray(), reused.softmax(1).ToArray());
        Assert.Equal(fresh.t().contiguous().ToArray(), reused.t().contiguous().ToArray());
        Assert.Equal(fresh.flatten().narrow(0, n - 10, 10).ToArray(), reused.flatten().narrow(0, n - 10, 10).ToArray());
        Assert.Equal(torch.cat([fresh, fresh]).ToArray(), torch.cat([reused, reused]).ToArray());
        Assert.Equal(fresh.matmul(fresh).ToArray(), reused.matmul(reused).ToArray());
        Assert.Equal(fresh.clone().mul(2f).ToArray(), reused.clone().mul(2f).ToArray());
        Assert.False(float.IsNaN(reused.abs().sum().item()));
    }
}
