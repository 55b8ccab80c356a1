using FsrNative.Tests.Infrastructure;
using static FsrNative.Tests.Parity.ParityHarness;

namespace FsrNative.Tests.Parity;

/// <summary>
/// index_select, gather, scatter_add, one_hot and their backwards (index_add / scatter_add with repeated indices:
/// one GPU thread per column loops over j in order, so sums match the CPU's order exactly), and the deferred
/// out-of-range report of the GPU kernels.
/// </summary>
[Trait(Categories.Trait, Categories.Parity)]
[Collection(nameof(FsrNative.Tests.Parity.KernelErrorReporting))]
public sealed class IndexingParityTests
{
    static Tensor Ints(Device d, int[] values, params int[] shape) => torch.tensor(values, shape.Length == 0 ? null : shape, d);

    [Fact]
    public void IndexSelectAlongEveryDim()
    {
        Check("index_select dim 0", xs => xs[0].index_select(0, Ints(xs[0].device, [2, 0, 2, 1, 2])), Exact, new In([3, 4]));
        Check("index_select dim 1", xs => xs[0].index_select(1, Ints(xs[0].device, [3, 3, 0])), Exact, new In([2, 4, 3]));
        Check("index_select last", xs => xs[0].index_select(2, Ints(xs[0].device, [1, 0, 1, 1])), Exact, new In([2, 3, 2]));
        Check("index_select of view", xs => xs[0].t().index_select(0, Ints(xs[0].device, [4, 1])), Exact, new In([3, 5]));
        Check("index_select empty index", xs => xs[0].index_select(0, Ints(xs[0].device, [], 0)), Exact, new In([3, 2]));
    }

    [Fact]
    public void GatherAndItsScatterAddBackward()
    {
        var idx = new[] { 0, 2, 2, 1, 0, 0, 1, 2, 2, 2, 0, 1 };
        Check("gather dim 1", xs => xs[0].gather(1, Ints(xs[0].device, idx, 3, 4)), Exact, new In([3, 3]));
        Check("gather dim 0 smaller index", xs => xs[0].gather(0, Ints(xs[0].device, [1, 0, 1, 1], 2, 2)), Exact, new In([2, 3]));
        Check("gather dim 1 of 3-D", xs => xs[0].gather(1, Ints(xs[0].device, idx, 2, 3, 2)), Exact, new In([2, 3, 2]));
    }

    [Fact]
    public void ScatterAddForwardAndBackward()
    {
        var idx = new[] { 0, 2, 2, 1, 0, 0, 1, 2, 2, 2, 0, 1 };
        Check("scatter_add dim 1", xs => xs[0].scatter_add(1, Ints(xs[0].device, idx, 3, 4), xs[1]), Sums, new In([3, 3]), new In([3, 4]));
        Check("scatter_add dim 0", xs => xs[0].scatter_add(0, Ints(xs[0].device, idx, 4, 3), xs[1]), Sums, new In([3, 3]), new In([4, 3]));
        Check("scatter_add larger src", xs => xs[0].scatter_add(1, Ints(xs[0].device, [1, 1, 0, 0], 2, 2), xs[1]), Sums,
            new In([2, 3]), new In([2, 4]));
        Check("max(dim) backward", xs => xs[0].max(0).values, Exact, new In([4, 5], -2, 3, Integers: true));
    }

    [Fact]
    public void IndexAddDirect()
    {
        var dst0 = TestRandom.Uniform(41, 2 * 4 * 3, -1, 1);
        var src = TestRandom.Uniform(42, 2 * 5 * 3, -1, 1);
        int[] index = [3, 0, 3, 3, 1];
        float[] Run(Device d)
        {
            using var scope = torch.NewDisposeScope();
            var dst = On(d, dst0, 2, 4, 3);
            d.Backend.IndexAdd(dst, Ints(d, index), On(d, src, 2, 5, 3), 2, 4, 3);
            return dst.ToArray();
        }
        Close.AssertClose(Run(Device.CPU), Run(Emu), Exact, "index_add with repeated indices");
    }

    [Fact]
    public void OneHot()
    {
        foreach (var d in new[] { Device.CPU, Emu })
        {
            using var scope = torch.NewDisposeScope();
            var labels = Ints(d, [2, 0, 1, 2, 4, 0], 2, 3);
            var h = torch.nn.functional.one_hot(labels, 5);
            Assert.Equal([2, 3, 5], h.shape);
            var v = h.ToArray();
            int[] expected = [2, 0, 1, 2, 4, 0];
            for (int p = 0; p < 6; p++)
                for (int c = 0; c < 5; c++)
                    Assert.Equal(expected[p] == c ? 1f : 0f, v[p * 5 + c]);
            Assert.Equal([2, 3], torch.nn.functional.one_hot(labels.t().narrow(0, 0, 1).squeeze(0)).shape);   // [2, 2]: max + 1 classes
        }
    }

    /// <summary>
    /// On the GPU an out-of-range index is clamped (memory stays safe) and reported at the next sync point, naming the
    /// op, the position and the value; the device keeps working afterwards. The error buffer is per device, like a
    /// CUDA sticky error, so this runs on a private emulator instance: on the shared one a parallel test's sync could
    /// collect the report.
    /// </summary>
    [Fact]
    public void OutOfRangeIndicesReportAtTheNextSync()
    {
        Assert.Throws<IndexOutOfRangeException>(() => torch.ones([3, 4]).index_select(0, Ints(Device.CPU, [1, 5, 0])));
        var be = IlgpuBackend.CreateIsolatedEmulator();
        try
        {
            using var scope = torch.NewDisposeScope();
            Tensor F(params int[] shape) => Tensor.FromStorage(be.Allocate(FsrNative.Shape.NumEl(shape)), shape, DType.Float32);
            Tensor I(int[] values, params int[] shape)
            {
                var t = Tensor.FromStorage(be.Allocate(values.Length), shape, DType.Int32);
                be.Upload(System.Runtime.InteropServices.MemoryMarshal.Cast<int, float>(values), t);
                return t;
            }
            var x = F(3, 4);
            be.Fill(x, 1f);
            var y = F(3, 4);
            be.IndexSelect(x, I([1, 5, 0], 3), y, 1, 3, 4);       // queued: no sync, no throw yet
            var host = new float[12];
            var ex = Assert.Throws<IndexOutOfRangeException>(() => be.Download(y, host));
            Assert.Contains("index_select: index 5 at position 1", ex.Message);
            Assert.Contains("size 3", ex.Message);

            be.Gather(x, I([0, -1, 2, 3, 0, 0], 3, 2), F(3, 2), 3, 4, 2, 1);
            ex = Assert.Throws<IndexOutOfRangeException>(be.Synchronize);
            Assert.Contains("gather: index -1 at position 1", ex.Message);

            be.ScatterAdd(F(1, 3), I([0, 3], 1, 2), F(1, 2), 1, 3, 2, 1);
            ex = Assert.Throws<IndexOutOfRangeException>(be.Synchronize);
            Assert.Contains("scatter_add: index 3", ex.Message);

            be.IndexAdd(F(2, 3), I([2, -4], 2), F(2, 3), 1, 2, 3);
            ex = Assert.Throws<IndexOutOfRangeException>(be.Synchronize);
            Assert.Contains("index_add: index 2", ex.Message);

            be.OneHot(I([0, 7], 2), F(2, 3), 3);
            ex = Assert.Throws<IndexOutOfRangeException>(be.Synchronize);
            Assert.Contains("one_hot: index 7", ex.Message);

            var ok = F(1, 4);
            be.IndexSelect(x, I([2], 1), ok, 1, 3, 4);             // cleared, working
            var row = new float[4];
            be.Download(ok, row);
            Assert.Equal([1f, 1f, 1f, 1f], row);
        }
        finally
        {
            be.DisposeIsolated();
        }
    }
}
