using FsrNative.Tests.Infrastructure;
using static FsrNative.Tests.Parity.ParityHarness;

namespace FsrNative.Tests.Parity;

/// <summary>
/// matmul through the op API (2-D, transposed views, 1-D operands, batched, broadcast batches, linear) forward and
/// backward, and the GEMM primitive directly (alpha, beta = 1 accumulation, K = 0). On the shared emulator the naive
/// GEMM runs (see IlgpuBackend.GemmChoice); the tiled kernel is checked in <see cref="KernelGroupSizeParityTests"/>.
/// </summary>
[Trait(Categories.Trait, Categories.Parity)]
public sealed class MatmulParityTests
{
    [Fact]
    public void Matmul2DAndTransposedViews()
    {
        Check("matmul 2d", xs => xs[0].matmul(xs[1]), Sums, new In([7, 9]), new In([9, 5]));
        Check("matmul a.t()", xs => xs[0].t().matmul(xs[1]), Sums, new In([9, 7]), new In([9, 5]));
        Check("matmul b.t()", xs => xs[0].matmul(xs[1].t()), Sums, new In([7, 9]), new In([5, 9]));
        Check("matmul both t", xs => xs[0].t().matmul(xs[1].t()), Sums, new In([9, 7]), new In([5, 9]));
        Check("matmul narrowed rows", xs => xs[0].narrow(1, 1, 6).matmul(xs[1]), Sums, new In([4, 8]), new In([6, 3]));
    }

    [Fact]
    public void MatmulWithVectors()
    {
        Check("vector · matrix", xs => xs[0].matmul(xs[1]), Sums, new In([6]), new In([6, 4]));
        Check("matrix · vector", xs => xs[0].matmul(xs[1]), Sums, new In([3, 6]), new In([6]));
        Check("dot", xs => xs[0].matmul(xs[1]), Sums, new In([11]), new In([11]));
        Check("1×1 outputs", xs => xs[0].matmul(xs[1]), Sums, new In([1, 3]), new In([3, 1]));
    }

    [Fact]
    public void BatchedAndBroadcastBatches()
    {
        Check("batched", xs => xs[0].matmul(xs[1]), Sums, new In([2, 3, 5, 7]), new In([2, 3, 7, 4]));
        Check("shared B folds into rows", xs => xs[0].matmul(xs[1]), Sums, new In([2, 3, 5, 7]), new In([7, 4]));
        Check("broadcast batch dims", xs => xs[0].matmul(xs[1]), Sums, new In([2, 1, 5, 7]), new In([3, 7, 4]));
        Check("batched transposed", xs => xs[0].transpose(-1, -2).matmul(xs[1].transpose(-1, -2)), Sums,
            new In([3, 6, 4]), new In([3, 5, 6]));
        Check("permuted batch", xs => xs[0].permute(1, 0, 2).matmul(xs[1]), Sums, new In([4, 2, 3]), new In([2, 3, 5]));
    }

    [Fact]
    public void LinearLayer()
    {
        Check("linear", xs => torch.nn.functional.linear(xs[0], xs[1], xs[2]), Sums, new In([2, 3, 6]), new In([4, 6]), new In([4]));
    }

    /// <summary>The primitive itself: alpha, beta = 1 (C accumulates), K = 0, batch strides 0 for A.</summary>
    [Fact]
    public void GemmPrimitiveAlphaBetaAndEmptyK()
    {
        var a = TestRandom.Uniform(21, 3 * 4, -1, 1);
        var b = TestRandom.Uniform(22, 2 * 4 * 5, -1, 1);
        var c0 = TestRandom.Uniform(23, 2 * 3 * 5, -1, 1);
        float[] Run(Device d, float beta, int k)
        {
            using var scope = torch.NewDisposeScope();
            var ta = On(d, a, 3, 4);
            var tb = On(d, b, 2, 4, 5);
            var tc = On(d, c0, 2, 3, 5);
            d.Backend.Matmul(new MatmulArgs(ta, tb, tc, [2], [0], [20], 3, 5, k, false, 4, false, 5, Alpha: 0.5f, Beta: beta));
            return tc.ToArray();
        }
        Close.AssertClose(Run(Device.CPU, 1f, 4), Run(Emu, 1f, 4), Sums, "alpha 0.5, beta 1");
        Close.AssertClose(Run(Device.CPU, 0f, 4), Run(Emu, 0f, 4), Sums, "alpha 0.5, beta 0");
        Close.AssertClose(Run(Device.CPU, 0f, 0), Run(Emu, 0f, 0), Exact, "K = 0");
        Close.AssertClose(Run(Device.CPU, 1f, 0), Run(Emu, 1f, 0), Exact, "K = 0, beta 1");
    }

    /// <summary>With beta = 0, C is write-only: garbage (NaN) in it must not leak into the result.</summary>
    [Fact]
    public void BetaZeroNeverReadsC()
    {
        using var scope = torch.NewDisposeScope();
        var a = On(Emu, [1, 2, 3, 4], 2, 2);
        var c = torch.full([2, 2], float.NaN, Emu);
        Emu.Backend.Matmul(new MatmulArgs(a, a, c, [], [], [], 2, 2, 2, false, 2, false, 2));
        Assert.Equal([7f, 10f, 15f, 22f], c.ToArray());
    }
}
