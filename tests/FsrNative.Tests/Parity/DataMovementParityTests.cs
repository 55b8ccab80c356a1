using FsrNative.Tests.Infrastructure;
using static FsrNative.Tests.Parity.ParityHarness;

namespace FsrNative.Tests.Parity;

/// <summary>Upload / download (of strided views), fill, strided copy and casts: all exact.</summary>
[Trait(Categories.Trait, Categories.Parity)]
public sealed class DataMovementParityTests
{
    [Fact]
    public void UploadDownloadRoundTripIsExact()
    {
        var data = TestRandom.Normal(1, 3 * 37);
        data[5] = float.NaN;
        data[6] = float.NegativeInfinity;
        data[7] = -0f;
        using var scope = torch.NewDisposeScope();
        var t = On(Emu, data, 3, 37);
        var back = t.ToArray();
        Assert.Equal(data.Select(BitConverter.SingleToInt32Bits), back.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(data[0], t.narrow(1, 0, 1).narrow(0, 0, 1).item());
    }

    /// <summary>Download of views: the strided-copy kernel gathers them into a contiguous temporary first.</summary>
    [Fact]
    public void DownloadOfStridedViews()
    {
        Check("download transpose", xs => xs[0].detach().t(), Exact, new In([5, 7], Grad: false));
        Check("download permute", xs => xs[0].detach().permute(2, 0, 1), Exact, new In([2, 3, 4], Grad: false));
        Check("download narrow offset", xs => xs[0].detach().narrow(1, 3, 4).narrow(0, 1, 2), Exact, new In([4, 9], Grad: false));
        Check("download expand", xs => xs[0].detach().expand(3, 4, 5), Exact, new In([4, 1], Grad: false));
        Check("download select", xs => xs[0].detach().select(1, 2), Exact, new In([3, 4, 2], Grad: false));
        Check("download step-2 view", xs => xs[0].detach().AsStridedRaw([3, 4], [10, 2], 1), Exact, new In([4, 10], Grad: false));
    }

    [Fact]
    public void FillContiguousAndStrided()
    {
        Check("full", xs => torch.full([3, 5], 2.5f, xs[0].device), Exact, new In([1], Grad: false));
        Check("fill_ on narrow view", xs =>
        {
            var t = xs[0].detach().clone();
            t.narrow(1, 1, 3).fill_(-4f);
            t.t().narrow(0, 0, 1).fill_(9f);
            return t;
        }, Exact, new In([4, 6], Grad: false));
        Check("zero_ of permuted", xs =>
        {
            var t = xs[0].detach().clone();
            t.permute(1, 0, 2).narrow(0, 1, 1).zero_();
            return t;
        }, Exact, new In([2, 3, 4], Grad: false));
    }

    [Fact]
    public void FillInt32Words()
    {
        foreach (var d in new[] { Device.CPU, Emu })
        {
            using var scope = torch.NewDisposeScope();
            var t = torch.full_int([2, 3], -123456789, d);
            Assert.All(t.ToIntArray(), v => Assert.Equal(-123456789, v));
            t.t().narrow(0, 1, 1).fill_(7);
            Assert.Equal([-123456789, 7, -123456789, -123456789, 7, -123456789], t.ToIntArray());
        }
    }

    /// <summary>Strided → strided and contiguous → contiguous copies through clone, contiguous, cat, stack and copy_.</summary>
    [Fact]
    public void CopiesThroughViews()
    {
        Check("clone of permuted", xs => xs[0].permute(3, 1, 0, 2).clone(), Exact, new In([2, 3, 4, 5]));
        Check("contiguous of transposed", xs => xs[0].t().contiguous(), Exact, new In([6, 5]));
        Check("cat dim 1 of views", xs => torch.cat([xs[0].t(), xs[1], xs[0].t().narrow(1, 1, 2)], 1), Exact,
            new In([4, 3]), new In([3, 2]));
        Check("stack", xs => torch.stack([xs[0], xs[1].t()], 1), Exact, new In([3, 4]), new In([4, 3]));
        Check("copy_ broadcast into view", xs =>
        {
            var t = xs[0].detach().clone();
            using (torch.no_grad()) t.t().narrow(1, 1, 2).copy_(xs[1]);
            return t;
        }, Exact, new In([3, 5], Grad: false), new In([5, 1], Grad: false));
        Check("reshape copy", xs => xs[0].t().reshape(-1), Exact, new In([3, 4]));
    }

    [Fact]
    public void CopyOfInt32Tensors()
    {
        var ints = TestRandom.Integers(3, 24, -1000, 1000);
        foreach (var d in new[] { Device.CPU, Emu })
        {
            using var scope = torch.NewDisposeScope();
            var t = torch.tensor(ints, [2, 3, 4], d);
            var p = t.permute(2, 0, 1).contiguous();
            var expected = Enumerable.Range(0, 24).Select(q => ints[(q % 6 / 3) * 12 + (q % 3) * 4 + q / 6]).ToArray();
            Assert.Equal(expected, p.ToIntArray());
        }
    }

    [Fact]
    public void CastsTruncateTowardZero()
    {
        var values = new[] { -2.7f, -2f, -0.5f, 0f, 0.5f, 1.999f, 3.5f, -1e9f, 2.1e9f, 123456.7f };
        foreach (var d in new[] { Device.CPU, Emu })
        {
            using var scope = torch.NewDisposeScope();
            var t = On(d, values, 2, 5);
            Assert.Equal(values.Select(v => (int)v).ToArray(), t.to(DType.Int32).ToIntArray());
            var tt = t.t().to(DType.Int32);   // strided source
            Assert.Equal(new[] { 0, 5, 1, 6, 2, 7, 3, 8, 4, 9 }.Select(i => (int)values[i]).ToArray(), tt.ToIntArray());
            var back = tt.to(DType.Float32);
            Assert.Equal(new[] { 0, 5, 1, 6, 2, 7, 3, 8, 4, 9 }.Select(i => (float)(int)values[i]).ToArray(), back.ToArray());
            var fromView = torch.tensor(new[] { 1, -2, 3, -4, 5, -6 }, [2, 3], d).t().to(DType.Float32);
            Assert.Equal(new[] { 1f, -4, -2, 5, 3, -6 }, fromView.ToArray());
        }
    }

    /// <summary>A cast that cannot be represented throws on the CPU at once and on the GPU at the next sync point (on a
    /// private emulator instance: the error buffer is per device, and a parallel test's sync on the shared one could
    /// collect the report).</summary>
    [Fact]
    public void CastOfNaNReportsAtSync()
    {
        var data = new[] { 1f, float.NaN, 3f };
        using (torch.NewDisposeScope())
            Assert.Throws<OverflowException>(() => On(Device.CPU, data, 3).to(DType.Int32));
        var be = IlgpuBackend.CreateIsolatedEmulator();
        try
        {
            using var scope = torch.NewDisposeScope();
            Tensor Make(float[] values, DType dtype)
            {
                var t = Tensor.FromStorage(be.Allocate(values.Length), [values.Length], dtype);
                if (dtype == DType.Float32) be.Upload(values, t);
                return t;
            }
            var r = Make(new float[3], DType.Int32);
            be.Cast(Make(data, DType.Float32), r);
            var host = new float[3];
            var ex = Assert.Throws<OverflowException>(() => be.Download(r, host));
            Assert.Contains("cast to Int32", ex.Message);
            Assert.Contains("element 1", ex.Message);
            be.Cast(Make([3e9f], DType.Float32), Make(new float[1], DType.Int32));
            Assert.Throws<OverflowException>(be.Synchronize);
            // The error is cleared: the device keeps working.
            var ok = Make(new float[2], DType.Int32);
            be.Cast(Make([2.5f, -2.9f], DType.Float32), ok);
            var words = new float[2];
            be.Download(ok, words);
            Assert.Equal([2, -2], words.Select(BitConverter.SingleToInt32Bits));
        }
        finally
        {
            be.DisposeIsolated();
        }
    }

    [Fact]
    public void EmptyTensorsAreNoOps()
    {
        using var scope = torch.NewDisposeScope();
        var e = torch.zeros([0, 3], Emu);
        Assert.Empty(e.ToArray());
        Assert.Empty(e.t().clone().ToArray());
        Assert.Empty(e.exp().ToArray());
        Assert.Equal([0f, 0f, 0f], e.sum(0).ToArray());
    }
}
