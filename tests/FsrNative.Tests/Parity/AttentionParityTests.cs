using FsrNative.Kernels;
using FsrNative.Tests.Infrastructure;
using static FsrNative.Tests.Parity.ParityHarness;

namespace FsrNative.Tests.Parity;

/// <summary>
/// Attention, dropout and drop-path on ILGPU against the CPU backend. Through the op API on the shared emulator (the
/// naive attention kernels), and the tiled flash-attention kernels (256-thread groups, warp shuffles) through the
/// backend primitives on an isolated emulator: forward, log-sum-exp and the three gradients, both register variants,
/// several key and query tiles with partial edges, masks with fully masked rows, dropout. Dropout masks are bitwise
/// equal across backends.
/// </summary>
[Trait(Categories.Trait, Categories.Parity)]
public sealed class AttentionParityTests
{
    static Tensor Sdpa(Tensor q, Tensor k, Tensor v, Tensor? add = null, Tensor? keep = null, double p = 0, bool causal = false)
        => torch.nn.functional.scaled_dot_product_attention(q, k, v, add, p, causal, keep_mask: keep, generator: p > 0 ? new Generator(11) : null);

    static In Keep(params int[] shape) => new(shape, 0, 2, Grad: false, Integers: true);

    [Fact]
    public void NaiveKernelsThroughTheOp()
    {
        Check("sdpa", x => Sdpa(x[0], x[1], x[2]), Sums, new In([2, 3, 13, 8]), new In([2, 3, 13, 8]), new In([2, 3, 13, 8]));
        Check("sdpa Nq≠Nk, Dv≠D", x => Sdpa(x[0], x[1], x[2]), Sums, new In([1, 2, 7, 17]), new In([1, 2, 19, 17]), new In([1, 2, 19, 5]));
        Check("sdpa one query", x => Sdpa(x[0], x[1], x[2]), Sums, new In([2, 2, 1, 16]), new In([2, 2, 40, 16]), new In([2, 2, 40, 16]));
        Check("sdpa additive mask", x => Sdpa(x[0], x[1], x[2], add: x[3]), Sums,
            new In([2, 3, 9, 8]), new In([2, 3, 11, 8]), new In([2, 3, 11, 8]), new In([2, 1, 9, 11], Grad: false));
        Check("sdpa keep mask per key", x => Sdpa(x[0], x[1], x[2], keep: x[3]), Sums,
            new In([2, 3, 9, 8]), new In([2, 3, 11, 8]), new In([2, 3, 11, 8]), Keep(2, 1, 1, 11));
        Check("sdpa keep mask per query and key", x => Sdpa(x[0], x[1], x[2], keep: x[3]), Sums,
            new In([2, 3, 9, 8]), new In([2, 3, 3, 8]), new In([2, 3, 3, 8]), Keep(2, 1, 9, 3));   // 3 keys: some rows fully masked
        Check("sdpa causal", x => Sdpa(x[0], x[1], x[2], causal: true), Sums, new In([1, 2, 9, 8]), new In([1, 2, 9, 8]), new In([1, 2, 9, 8]));
        Check("sdpa dropout", x => Sdpa(x[0], x[1], x[2], p: 0.3), Sums, new In([2, 2, 9, 8]), new In([2, 2, 12, 8]), new In([2, 2, 12, 8]));
        Check("sdpa head-split views", x => Sdpa(x[0].permute(0, 2, 1, 3), x[1].permute(0, 2, 1, 3), x[2].transpose(-1, -2)), Sums,
            new In([2, 9, 3, 8]), new In([2, 9, 3, 8]), new In([2, 3, 8, 9]));
        Check("sdpa weights", x => torch.nn.functional.scaled_dot_product_attention_with_weights(x[0], x[1], x[2], keep_mask: x[3]).weights, Sums,
            new In([2, 3, 9, 8]), new In([2, 3, 5, 8]), new In([2, 3, 5, 8]), Keep(2, 1, 9, 5));
    }

    [Fact]
    public void FullyMaskedRowsGiveZerosOnBothBackends()
    {
        var q = TestRandom.Uniform(1, 2 * 4 * 3, -1, 1);
        var k = TestRandom.Uniform(2, 2 * 5 * 3, -1, 1);
        var keep = new float[] { 1, 0, 1, 1, 0, /**/ 0, 0, 0, 0, 0 };   // batch 1 fully masked
        (float[] o, float[] gq, float[] gk) Run(Device d)
        {
            using var scope = torch.NewDisposeScope();
            var tq = torch.tensor(q, [2, 1, 4, 3], d, requires_grad: true);
            var tk = torch.tensor(k, [2, 1, 5, 3], d, requires_grad: true);
            var y = Sdpa(tq, tk, tk, keep: torch.tensor(keep, [2, 1, 1, 5], d));
            y.sum().backward();
            return (y.ToArray(), tq.grad!.ToArray(), tk.grad!.ToArray());
        }
        var c = Run(Device.CPU);
        var e = Run(Emu);
        Close.AssertClose(c.o, e.o, Sums, "output");
        Close.AssertClose(c.gq, e.gq, Sums, "dq");
        Close.AssertClose(c.gk, e.gk, Sums, "dk");
        Assert.All(c.o.Skip(12), v => Assert.Equal(0f, v));
        Assert.All(c.gq.Skip(12), v => Assert.Equal(0f, v));
        Assert.All(c.gk.Skip(15), v => Assert.Equal(0f, v));
        Assert.All(e.o.Concat(e.gq).Concat(e.gk), v => Assert.True(float.IsFinite(v)));
    }

    // ---- dropout masks: bitwise equal ------------------------------------------------------------------------------

    [Fact]
    public void DropoutAndDropPathAreBitIdentical()
    {
        Check("dropout", x => torch.nn.functional.dropout(x[0], 0.3, generator: new Generator(4)), Exact, new In([1001]));
        Check("dropout of view", x => torch.nn.functional.dropout(x[0].t(), 0.5, generator: new Generator(5)), Exact, new In([7, 13]));
        Check("drop_path", x => torch.nn.functional.drop_path(x[0], 0.4, training: true, generator: new Generator(6)), Exact, new In([37, 3, 5]));
        Check("drop_path unscaled", x => torch.nn.functional.drop_path(x[0], 0.4, true, new Generator(6), scale_by_keep: false), Exact, new In([37, 2]));
    }

    // ---- tiled kernels on an isolated emulator ---------------------------------------------------------------------

    static Tensor Make(IBackend be, float[] data, int[] shape)
    {
        var t = Tensor.FromStorage(be.Allocate(data.Length), shape, DType.Float32);
        be.Upload(data, t);
        return t;
    }

    static float[] Get(IBackend be, Tensor t)
    {
        var host = new float[t.NumEl];
        be.Download(t, host);
        return host;
    }

    sealed record TiledCase(string Name, int B, int H, int Nq, int Nk, int D, int Dv, bool Mask, float Keep);

    static readonly TiledCase[] TiledCases =
    [
        new("two query and key tiles with edges, mask with a fully masked row, dropout (64 variant)", 1, 2, 70, 67, 17, 9, true, 0.75f),
        new("wide head dims (128 variant)", 1, 1, 33, 20, 100, 72, false, 1f),
        new("one query over 70 keys, a batch entry fully masked", 2, 1, 1, 70, 64, 64, true, 1f),
    ];

    /// <summary>Contiguous q, k, v, mask (B, 1, Nq, Nk) with −∞ entries (row 3 fully masked; batch 1 fully masked when
    /// Nq = 1), the upstream gradient, and the geometry.</summary>
    static (float[][] data, AttentionGeometry g) Inputs(TiledCase c)
    {
        int heads = c.B * c.H;
        var q = TestRandom.Uniform(1, heads * c.Nq * c.D, -1, 1);
        var k = TestRandom.Uniform(2, heads * c.Nk * c.D, -1, 1);
        var v = TestRandom.Uniform(3, heads * c.Nk * c.Dv, -1, 1);
        var go = TestRandom.Uniform(4, heads * c.Nq * c.Dv, -1, 1);
        var mask = TestRandom.Uniform(5, c.B * c.Nq * c.Nk, -1, 1);
        for (int i = 0; i < mask.Length; i += 5) mask[i] = float.NegativeInfinity;
        if (c.Nq > 3) Array.Fill(mask, float.NegativeInfinity, 3 * c.Nk, c.Nk);
        if (c.Nq == 1 && c.B > 1) Array.Fill(mask, float.NegativeInfinity, c.Nk, c.Nk);
        var g = new AttentionGeometry
        {
            B = c.B, H = c.H, Nq = c.Nq, Nk = c.Nk, D = c.D, Dv = c.Dv,
            QStrideB = c.H * c.Nq * c.D, QStrideH = c.Nq * c.D, QStrideRow = c.D,
            KStrideB = c.H * c.Nk * c.D, KStrideH = c.Nk * c.D, KStrideRow = c.D,
            VStrideB = c.H * c.Nk * c.Dv, VStrideH = c.Nk * c.Dv, VStrideRow = c.Dv,
            HasMask = c.Mask ? 1 : 0, MaskStrideB = c.Nq * c.Nk, MaskStrideH = 0, MaskStrideRow = c.Nk, MaskStrideCol = 1,
            Scale = 1f / MathF.Sqrt(c.D), KeepProb = c.Keep, DropScale = 1f / c.Keep, Seed = 42, Stream = 3,
        };
        return ([q, k, v, go, mask], g);
    }

    static float[][] RunPrimitives(IBackend be, TiledCase c, float[][] data, AttentionGeometry g)
    {
        int heads = c.B * c.H;
        var q = Make(be, data[0], [heads, c.Nq, c.D]);
        var k = Make(be, data[1], [heads, c.Nk, c.D]);
        var v = Make(be, data[2], [heads, c.Nk, c.Dv]);
        var go = Make(be, data[3], [heads, c.Nq, c.Dv]);
        var mask = Make(be, data[4], [c.B, c.Nq, c.Nk]);
        var args = new AttentionArgs(q, k, v, c.Mask ? mask : null, g);
        Tensor Empty(params int[] shape) => Tensor.FromStorage(be.Allocate(FsrNative.Shape.NumEl(shape)), shape, DType.Float32);
        var o = Empty(heads, c.Nq, c.Dv);
        var lse = Empty(heads * c.Nq);
        be.Attention(args, o, lse);
        var gq = Empty(heads, c.Nq, c.D);
        var gk = Empty(heads, c.Nk, c.D);
        var gv = Empty(heads, c.Nk, c.Dv);
        be.AttentionBackward(args, o, lse, go, gq, gk, gv);
        return [Get(be, o), Get(be, lse), Get(be, gq), Get(be, gk), Get(be, gv)];
    }

    [Fact]
    public void TiledKernelsMatchCpuAndNaive()
    {
        var be = IlgpuBackend.CreateIsolatedEmulator();
        try
        {
            string[] names = ["output", "lse", "dq", "dk", "dv"];
            foreach (var c in TiledCases)
            {
                var (data, g) = Inputs(c);
                float[][] cpu, tiled, naive;
                using (torch.NewDisposeScope()) cpu = RunPrimitives(CpuBackend.Instance, c, data, g);
                using (torch.NewDisposeScope())
                {
                    be.AttentionChoice = IlgpuBackend.AttentionKernel.Tiled;
                    tiled = RunPrimitives(be, c, data, g);
                    be.AttentionChoice = IlgpuBackend.AttentionKernel.Naive;
                    naive = RunPrimitives(be, c, data, g);
                }
                for (int i = 0; i < names.Length; i++)
                {
                    Close.AssertClose(cpu[i], tiled[i], Sums, $"tiled vs cpu, {names[i]}: {c.Name}", equalNan: false);
                    Close.AssertClose(naive[i], tiled[i], Sums, $"tiled vs naive, {names[i]}: {c.Name}", equalNan: false);
                }
            }
        }
        finally
        {
            be.DisposeIsolated();
        }
    }
}
