using FsrNative.Kernels;
using FsrNative.Tests.Infrastructure;
using static FsrNative.Tests.Parity.ParityHarness;

namespace FsrNative.Tests.Parity;

using Fn = FsrNative.torch.nn.functional;

/// <summary>
/// conv2d (im2col + GEMM, gather col2im, per-image weight-gradient GEMMs; the pointwise and patch-embedding shapes;
/// chunked batches) and every pooling kernel (gather backwards) on the emulator against the CPU backend, forward and
/// gradients; max-pool indices exactly, ties included. The tiled GEMM path of conv2d runs on an isolated emulator.
/// </summary>
[Trait(Categories.Trait, Categories.Parity)]
public sealed class ConvPoolParityTests
{
    [Fact]
    public void Conv2dEveryLayout()
    {
        Check("conv2d 3×3 pad 1 + bias", xs => Fn.conv2d(xs[0], xs[1], xs[2], 1, 1), Sums,
            new In([2, 3, 5, 6]), new In([4, 3, 3, 3]), new In([4]));
        Check("conv2d dilated 2, stride (2, 1)", xs => Fn.conv2d(xs[0], xs[1], null, (2, 1), 2, 2), Sums,
            new In([1, 2, 7, 6]), new In([3, 2, 3, 3]));
        Check("conv2d patch embedding", xs => Fn.conv2d(xs[0], xs[1], xs[2], 4), Sums,
            new In([2, 3, 9, 8]), new In([5, 3, 4, 4]), new In([5]));
        Check("conv2d pointwise", xs => Fn.conv2d(xs[0], xs[1]), Sums, new In([2, 4, 3, 5]), new In([3, 4, 1, 1]));
        Check("conv2d frozen weight", xs => Fn.conv2d(xs[0], xs[1], null, 1, 1), Sums,
            new In([1, 2, 4, 4]), new In([2, 2, 3, 3], Grad: false));
    }

    [Fact]
    public void Pooling()
    {
        Check("max_pool2d k3 s2 p1", xs => Fn.max_pool2d(xs[0], 3, 2, 1), Exact, new In([2, 2, 7, 9]));
        Check("max_pool2d dilated, ceil", xs => Fn.max_pool2d(xs[0], 3, 2, 1, 2, true), Exact, new In([1, 2, 9, 8]));
        Check("max_pool2d indices with ties", xs => Fn.max_pool2d_with_indices(xs[0], 3, 2, 1).indices, Exact,
            new In([2, 2, 7, 9], -2, 3, Grad: false, Integers: true));
        Check("max_pool2d gradient with ties", xs => Fn.max_pool2d(xs[0], (2, 3), (1, 2), (1, 1)), Exact,
            new In([2, 2, 6, 7], -2, 3, Integers: true));
        Check("global_max_pool2d", xs => Fn.global_max_pool2d(xs[0]), Exact, new In([2, 3, 5, 7]));
        Check("avg_pool2d k3 s2 p1", xs => Fn.avg_pool2d(xs[0], 3, 2, 1), Elementwise, new In([2, 2, 7, 9]));
        Check("avg_pool2d ceil, exclude pad", xs => Fn.avg_pool2d(xs[0], 3, 2, 1, true, false), Elementwise, new In([1, 2, 8, 8]));
        Check("avg_pool2d divisor override", xs => Fn.avg_pool2d(xs[0], (2, 3), (1, 2), (1, 1), divisorOverride: 4), Elementwise,
            new In([1, 2, 5, 7]));
        Check("adaptive_avg_pool2d irregular", xs => Fn.adaptive_avg_pool2d(xs[0], (3, 4)), Elementwise, new In([2, 2, 7, 9]));
        Check("adaptive_avg_pool2d up", xs => Fn.adaptive_avg_pool2d(xs[0], (5, 6)), Elementwise, new In([1, 2, 3, 4]));
        Check("global_avg_pool2d", xs => Fn.global_avg_pool2d(xs[0], keepdim: true), Sums, new In([2, 3, 5, 7]));
    }

    static Tensor Make(IlgpuBackend be, float[] data, params int[] shape)
    {
        var t = Tensor.FromStorage(be.Allocate(data.Length), shape, DType.Float32);
        be.Upload(data, t);
        return t;
    }

    static Tensor Empty(IBackend be, params int[] shape) => Tensor.FromStorage(be.Allocate(FsrNative.Shape.NumEl(shape)), shape, DType.Float32);

    static float[] Get(IBackend be, Tensor t)
    {
        var host = new float[t.NumEl];
        be.Download(t, host);
        return host;
    }

    /// <summary>The conv2d primitives with the tiled GEMM (groups of 256 threads, on a private emulator): forward with
    /// bias, input and weight gradients, for a columns-layout and a pointwise geometry, the batch in one im2col chunk
    /// and one image per chunk.</summary>
    [Fact]
    public void Conv2dWithTiledGemm()
    {
        var geometries = new[]
        {
            Conv2dGeometry.Create(2, 3, 6, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1),
            Conv2dGeometry.Create(2, 5, 3, 4, 3, 1, 1, 1, 1, 0, 0, 1, 1),
        };
        var be = IlgpuBackend.CreateIsolatedEmulator();
        try
        {
            be.GemmChoice = IlgpuBackend.GemmKernel.Tiled;
            foreach (var (g, budget) in geometries.SelectMany(g => new[] { (g, be.ConvScratchBudget), (g, 1) }))
            {
                be.ConvScratchBudget = budget;   // 1: one image per im2col chunk
                var x = TestRandom.Uniform(21, g.N * g.C * g.H * g.W, -1, 1);
                var w = TestRandom.Uniform(22, g.O * g.C * g.KH * g.KW, -1, 1);
                var b = TestRandom.Uniform(23, g.O, -1, 1);
                var gy = TestRandom.Uniform(24, g.N * g.O * g.OH * g.OW, -1, 1);
                float[][] Run(IBackend backend, Func<float[], int[], Tensor> make)
                {
                    var xt = make(x, [g.N, g.C, g.H, g.W]); var wt = make(w, [g.O, g.C, g.KH, g.KW]);
                    var bt = make(b, [g.O]); var gyt = make(gy, [g.N, g.O, g.OH, g.OW]);
                    var y = Empty(backend, g.N, g.O, g.OH, g.OW);
                    var gx = Empty(backend, g.N, g.C, g.H, g.W);
                    var gw = Empty(backend, g.O, g.C, g.KH, g.KW);
                    backend.Conv2d(xt, wt, bt, y, g);
                    backend.Conv2dBackwardInput(gyt, wt, gx, g);
                    backend.Conv2dBackwardWeight(xt, gyt, gw, g);
                    return [Get(backend, y), Get(backend, gx), Get(backend, gw)];
                }
                float[][] cpu, emu;
                using (torch.NewDisposeScope()) cpu = Run(CpuBackend.Instance, (d, s) => torch.tensor(d, s));
                using (torch.NewDisposeScope()) emu = Run(be, (d, s) => Make(be, d, s));
                string[] names = ["output", "input gradient", "weight gradient"];
                for (int i = 0; i < 3; i++) Close.AssertClose(cpu[i], emu[i], Sums, $"tiled conv2d {names[i]}, scratch budget {budget}: {g}");
            }
        }
        finally
        {
            be.DisposeIsolated();
        }
    }
}
