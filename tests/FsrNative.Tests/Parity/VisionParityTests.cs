using FsrNative.Kernels;
using FsrNative.Tests.Infrastructure;
using static FsrNative.Tests.Parity.ParityHarness;

namespace FsrNative.Tests.Parity;

/// <summary>interpolate (every mode, up and down, forward and the gathering backward) and flip on ILGPU's CPU accelerator
/// against the CPU backend.</summary>
[Trait(Categories.Trait, Categories.Parity)]
public sealed class ResamplingParityTests
{
    [Theory]
    [InlineData("nearest", null)]
    [InlineData("bilinear", false)]
    [InlineData("bilinear", true)]
    [InlineData("bicubic", false)]
    [InlineData("bicubic", true)]
    public void Interpolate(string mode, bool? align)
    {
        Check($"interpolate({mode}, {align}) up", xs => torch.nn.functional.interpolate(xs[0], size: [9, 13], mode: mode, align_corners: align), Sums, new In([2, 2, 4, 5]));
        Check($"interpolate({mode}, {align}) down", xs => torch.nn.functional.interpolate(xs[0], size: [3, 2], mode: mode, align_corners: align), Sums, new In([1, 2, 7, 6]));
        Check($"interpolate({mode}, {align}) scale", xs => torch.nn.functional.interpolate(xs[0], scale_factor: [2.5, 0.5], mode: mode, align_corners: align), Sums, new In([1, 1, 3, 7]));
    }

    [Fact]
    public void Flip()
    {
        Check("flip last", xs => xs[0].flip(-1), Exact, new In([2, 3, 11]));
        Check("flip middle and first", xs => xs[0].flip(0, 1), Exact, new In([2, 3, 5]));
        Check("flip labels", xs => xs[0].to(DType.Int32).flip(1), Exact, new In([2, 5], 0, 20, Grad: false, Integers: true));
    }
}

/// <summary>The DINO cross-entropy (one group per row; backward one thread per element) and the centre update.</summary>
[Trait(Categories.Trait, Categories.Parity)]
public sealed class CenteringParityTests
{
    [Fact]
    public void DinoCrossEntropy()
    {
        Check("dino student grad", xs => torch.nn.functional.dino_cross_entropy(xs[0], xs[1], xs[2], 0.1f, 0.04f), Sums, Sums, new[] {
            new In([3, 37]), new In([3, 37], Grad: false), new In([37], -0.5f, 0.5f, Grad: false) });
        Check("dino both grads", xs => torch.nn.functional.dino_cross_entropy(xs[0], xs[1], xs[2], 0.2f, 0.07f), Sums, new Tolerance(1e-4, 1e-4),
            new In([2, 3, 40]), new In([2, 3, 40]), new In([40], -0.5f, 0.5f, Grad: false));
        Check("dino center update", xs => { var c = xs[1].clone(); torch.nn.functional.dino_center_update_(c, xs[0], 0.9f); return c; }, Sums,
            new In([5, 33], Grad: false), new In([33], Grad: false));
    }

    /// <summary>The one-group-per-row forward at group sizes 1, 3, 32 and 37 on an isolated emulator (wide groups would
    /// slow the shared one down), against the CPU backend: loss and both log-sum-exps.</summary>
    [Fact]
    public void DinoForwardAtEveryGroupSize()
    {
        const int rows = 3, d = 45;
        var s = TestRandom.Uniform(41, rows * d, -3, 3);
        var t = TestRandom.Uniform(42, rows * d, -3, 3);
        var c = TestRandom.Uniform(43, d, -0.5f, 0.5f);
        float[][] Run(IBackend be, Func<float[], int[], Tensor> make)
        {
            Tensor Empty(int n) => Tensor.FromStorage(be.Allocate(n), [n], DType.Float32);
            var (loss, lseS, lseT) = (Empty(rows), Empty(rows), Empty(rows));
            be.DinoCrossEntropy(make(s, [rows, d]), make(t, [rows, d]), make(c, [d]), loss, lseS, lseT, rows, d, 10f, 25f);
            return [Host(be, loss), Host(be, lseS), Host(be, lseT)];
        }
        float[][] expected;
        using (torch.NewDisposeScope()) expected = Run(CpuBackend.Instance, (data, shape) => torch.tensor(data, shape));
        var emu = IlgpuBackend.CreateIsolatedEmulator();
        try
        {
            foreach (int g in new[] { 1, 3, 32, 37 })
            {
                emu.RowGroupSizeOverride = g;
                using var scope = torch.NewDisposeScope();
                var actual = Run(emu, (data, shape) =>
                {
                    var x = Tensor.FromStorage(emu.Allocate(data.Length), shape, DType.Float32);
                    emu.Upload(data, x);
                    return x;
                });
                for (int i = 0; i < expected.Length; i++) Close.AssertClose(expected[i], actual[i], Sums, $"dino forward output {i}, group size {g}");
            }
        }
        finally
        {
            emu.DisposeIsolated();
        }
    }

    static float[] Host(IBackend be, Tensor t)
    {
        var host = new float[t.NumEl];
        be.Download(t, host);
        return host;
    }
}

/// <summary>cross_entropy (ignore index, selection mask, reductions), BCE with logits, multilabel soft margin, normalize,
/// cosine similarities, weight_norm.</summary>
[Trait(Categories.Trait, Categories.Parity)]
[Collection(nameof(FsrNative.Tests.Parity.KernelErrorReporting))]
public sealed class LossesParityTests
{
    /// <summary>Integer data in [0, 6): 5 becomes the ignore index 255.</summary>
    static Tensor Labels(Tensor v) => torch.where(v.eq(5f), torch.full_like(v, 255f), v).to(DType.Int32);

    [Theory]
    [InlineData("mean")]
    [InlineData("sum")]
    [InlineData("none")]
    public void CrossEntropy(string reduction)
    {
        Check($"cross_entropy (B,K,H,W) {reduction}", xs => torch.nn.functional.cross_entropy(xs[0], Labels(xs[1]), 255, reduction), Sums,
            new In([2, 5, 3, 4], -3, 3), new In([2, 3, 4], 0, 6, Grad: false, Integers: true));
        Check($"cross_entropy (B,K) {reduction}", xs => torch.nn.functional.cross_entropy(xs[0], Labels(xs[1]), 255, reduction), Sums,
            new In([6, 5], -3, 3), new In([6], 0, 6, Grad: false, Integers: true));
        Check($"cross_entropy masked {reduction}", xs => torch.nn.functional.cross_entropy(xs[0], Labels(xs[1]), 255, reduction, xs[2]), Sums,
            new In([2, 5, 3, 4], -3, 3), new In([2, 3, 4], 0, 6, Grad: false, Integers: true), new In([2, 3, 4], 0, 2, Grad: false, Integers: true));
    }

    [Fact]
    public void CrossEntropyReportsBadTargetsAtTheSyncPoint()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.zeros([2, 3], Emu);
        var t = torch.tensor((ReadOnlySpan<int>)[1, 7], [2], Emu);
        var e = Assert.Throws<IndexOutOfRangeException>(() => torch.nn.functional.cross_entropy(x, t, 255).item());
        Assert.Contains("cross_entropy", e.Message);
    }

    [Fact]
    public void BinaryCrossEntropyAndMultilabelSoftMargin()
    {
        Check("binary_cross_entropy_with_logits", xs => torch.nn.functional.binary_cross_entropy_with_logits(xs[0], xs[1], reduction: "none"), Sums,
            new In([4, 9], -20, 20), new In([4, 9], 0, 1));
        Check("multilabel_soft_margin_loss", xs => torch.nn.functional.multilabel_soft_margin_loss(xs[0], xs[1]), Sums,
            new In([3, 20], -4, 4), new In([3, 20], 0, 2, Grad: false, Integers: true));
    }

    [Fact]
    public void NormalizeAndCosineSimilarity()
    {
        Check("normalize", xs => torch.nn.functional.normalize(xs[0], 2f, -1), Sums, new In([3, 4, 6]));
        Check("cosine_similarity_matrix", xs => torch.nn.functional.cosine_similarity_matrix(xs[0], xs[1]), Sums, new In([2, 5, 8]), new In([2, 3, 8]));
    }

    [Fact]
    public void WeightNorm()
    {
        Check("weight_norm", xs => torch.nn.functional.weight_norm(xs[0], xs[1]), Sums, new In([6, 5]), new In([6, 1], 0.5f, 2f));
    }
}
