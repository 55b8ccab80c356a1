using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Engine;

/// <summary>Dispose scopes and reference-counted storage (safe to run beside other tests: per-thread, per-tensor).</summary>
[Trait(Categories.Trait, EngineCategory.Name)]
public class DisposeScopeTests
{
    [Fact]
    public void ScopeDisposesWhatItCreated()
    {
        Tensor inner, moved, detached, outerT;
        using (var outer = torch.NewDisposeScope())
        {
            outerT = torch.ones(2);
            using (var scope = torch.NewDisposeScope())
            {
                Assert.Same(scope, DisposeScope.Current);
                inner = torch.ones(3).mul(2f);
                moved = torch.ones(4).MoveToOuterDisposeScope();
                detached = torch.ones(5).DetachFromDisposeScope();
                Assert.Equal(2, scope.Count);   // ones(3) and its product; moved and detached ones are not counted
            }
            Assert.Same(outer, DisposeScope.Current);
            Assert.True(inner.IsDisposed);
            Assert.False(moved.IsDisposed);
            Assert.False(detached.IsDisposed);
            Assert.Equal(2, outer.Count);        // outerT and moved
        }
        Assert.True(moved.IsDisposed);
        Assert.True(outerT.IsDisposed);
        Assert.False(detached.IsDisposed);
        Assert.Equal([1f, 1f, 1f, 1f, 1f], detached.ToArray());
        detached.Dispose();
        Assert.True(detached.IsDisposed);
    }

    [Fact]
    public void MovingOutOfTheOutermostScopeLeavesTheTensorToTheCaller()
    {
        Tensor t;
        using (torch.NewDisposeScope()) t = torch.ones(2).MoveToOuterDisposeScope();
        Assert.False(t.IsDisposed);
        t.Dispose();
    }

    [Fact]
    public void ViewsKeepTheStorageAliveUntilTheLastHandleGoes()
    {
        var x = torch.arange(6).DetachFromDisposeScope();
        var r = x.reshape(2, 3).DetachFromDisposeScope();
        var v = r.t().DetachFromDisposeScope();
        var storage = x.Storage;
        x.Dispose();
        r.Dispose();
        Assert.True(x.IsDisposed);
        Assert.False(storage.IsReleased);
        Assert.Equal([0f, 3f, 1f, 4f, 2f, 5f], v.ToArray());
        v.Dispose();
        Assert.True(storage.IsReleased);
    }

    [Fact]
    public void DisposeIsIdempotentAndUseAfterDisposeThrows()
    {
        var x = torch.ones(3).DetachFromDisposeScope();
        x.Dispose();
        x.Dispose();
        Assert.Throws<ObjectDisposedException>(() => x.ToArray());
        Assert.Throws<ObjectDisposedException>(() => x.add(1f));
        Assert.Equal("tensor(<disposed>)", x.ToString());
    }

    [Fact]
    public void DisposingATensorDisposesItsGradient()
    {
        var x = torch.tensor([1f, 2f], [2], requires_grad: true).DetachFromDisposeScope();
        using (torch.NewDisposeScope()) x.mul(x).sum().backward();
        var g = x.grad!;
        Assert.False(g.IsDisposed);          // .grad is owned by its leaf, not by the scope of the backward pass
        Assert.Equal([2f, 4f], g.ToArray());
        x.Dispose();
        Assert.True(g.IsDisposed);
    }

    /// <summary>A training-step-shaped scope: after it, only the parameters and their gradients are alive.</summary>
    [Fact]
    public void TrainingStepScopeFreesActivationsAndSavedTensors()
    {
        var w = torch.randn([4, 3], new Generator(1), requires_grad: true).DetachFromDisposeScope();
        Tensor loss, h;
        using (torch.NewDisposeScope())
        {
            var x = torch.randn([5, 4], new Generator(2));
            h = x.matmul(w).gelu();
            loss = h.square().mean();
            loss.backward();
        }
        Assert.True(loss.IsDisposed);
        Assert.True(h.IsDisposed);
        Assert.False(w.IsDisposed);
        Assert.False(w.grad!.IsDisposed);
        w.Dispose();
    }
}

/// <summary>The CPU caching allocator's counters. Runs alone (another test allocating at the same time would move
/// the process-wide counters).</summary>
[CollectionDefinition(nameof(AllocatorCounters), DisableParallelization = true)]
public class AllocatorCounters;

[Collection(nameof(AllocatorCounters))]
[Trait(Categories.Trait, EngineCategory.Name)]
public class AllocatorTests
{
    [Fact]
    public void CountersFollowAllocationsAndTheCache()
    {
        const int n = 3 * 4096 + 5;                    // bucket: 4 × 4096 floats = 64 KiB
        const long bucketBytes = 4L * 4 * 4096;
        CpuAllocator.EmptyCache();
        var before = CpuAllocator.Stats;
        Assert.Equal(0, before.BytesCached);

        var a = torch.empty([n]).DetachFromDisposeScope();
        var s1 = CpuAllocator.Stats;
        Assert.Equal(before.BytesInUse + bucketBytes, s1.BytesInUse);
        Assert.Equal(before.CacheMisses + 1, s1.CacheMisses);
        Assert.True(s1.PeakBytes >= s1.BytesInUse);

        a.Dispose();
        var s2 = CpuAllocator.Stats;
        Assert.Equal(before.BytesInUse, s2.BytesInUse);
        Assert.Equal(bucketBytes, s2.BytesCached);

        var b = torch.empty([n + 100]).DetachFromDisposeScope();   // same bucket: served from the cache
        var s3 = CpuAllocator.Stats;
        Assert.Equal(s2.CacheHits + 1, s3.CacheHits);
        Assert.Equal(0, s3.BytesCached);
        Assert.Equal(before.BytesInUse + bucketBytes, s3.BytesInUse);

        var v = b.narrow(0, 10, 100).DetachFromDisposeScope();    // a view allocates nothing
        Assert.Equal(s3.BytesInUse, CpuAllocator.Stats.BytesInUse);
        b.Dispose();
        Assert.Equal(s3.BytesInUse, CpuAllocator.Stats.BytesInUse);   // the view still holds the storage
        v.Dispose();
        Assert.Equal(before.BytesInUse, CpuAllocator.Stats.BytesInUse);

        CpuAllocator.ResetPeak();
        Assert.Equal(CpuAllocator.Stats.BytesInUse, CpuAllocator.Stats.PeakBytes);
        CpuAllocator.EmptyCache();
        Assert.Equal(0, CpuAllocator.Stats.BytesCached);
        Assert.Equal(CpuAllocator.Stats, Device.CPU.Backend.MemoryStats);
    }

    /// <summary>Forward and backward of every op in the oracle tables inside a scope: afterwards not one byte is
    /// still in use (no op leaks a temporary, a saved tensor or a gradient).</summary>
    [Fact]
    public void EveryOpReturnsItsMemory()
    {
        var before = CpuAllocator.Stats.BytesInUse;
        using (torch.NewDisposeScope())
        {
            var g = new Generator(5);
            Tensor Input(string spec)
            {
                var s = In.Parse(spec);
                var leaf = torch.uniform(s.Layout.BaseShape(s.Shape), 0.5f, 1.5f, g, requires_grad: true);
                return s.Layout.Ours(leaf, s.Shape);
            }
            void Run(Func<Tensor[], Tensor> f, params string[] shapes)
            {
                var y = f(shapes.Select(Input).ToArray());
                if (y.requires_grad) y.square().sum().backward();
            }
            foreach (var u in Oracle.ElementwiseOracleTests.Unaries.Values) Run(x => u.Ours(x[0]), "3x4@t");
            foreach (var b in Oracle.ElementwiseOracleTests.Binaries.Values) Run(x => b.Ours(x[0], x[1]), "3x4", "4");
            foreach (var v in Oracle.ViewInPlaceOracleTests.Views.Values) Run(x => v.Ours(x[0]), v.Shape);
            foreach (var o in Oracle.CompositeOracleTests.Ops.Values) Run(o.Ours, o.Shapes);
            Run(x => x[0].sum([0, 2], true).mean().add(x[0].var([1]).std()), "3x4x5");
            Run(x => x[0].amax([1]).add(x[0].min(0).values.sum()), "3x4");
            Run(x => torch.stack([x[0], x[0]], 1).chunk(3, 2)[1], "3x4");
            Run(x => torch.nn.functional.layer_norm(x[0], [4, 5]), "3x4x5@p");
        }
        Assert.Equal(before, CpuAllocator.Stats.BytesInUse);
    }

    [Fact]
    public void ScopedWorkReturnsEveryByte()
    {
        var before = CpuAllocator.Stats.BytesInUse;
        using (torch.NewDisposeScope())
        {
            var x = torch.randn([64, 32], new Generator(3), requires_grad: true);
            var y = x.matmul(x.t()).softmax(-1).sum(0).mean();
            y.backward();
            var parts = torch.cat(x.split(5, 0), 0).reshape(32, 64).t().contiguous();
            Assert.True(CpuAllocator.Stats.BytesInUse > before);
        }
        Assert.Equal(before, CpuAllocator.Stats.BytesInUse);
    }
}
