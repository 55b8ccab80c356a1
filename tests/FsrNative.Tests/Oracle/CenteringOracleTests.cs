using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Oracle;

using TT = TorchSharp.torch.Tensor;
using TF = TorchSharp.torch.nn.functional;

/// <summary>The fused DINO cross-entropy (student and, when asked, teacher gradients) and the centre update against the
/// same expressions composed of libtorch ops.</summary>
[Trait(Categories.Trait, Categories.Oracle)]
public class CenteringOracleTests
{
    static CenteringOracleTests() => FsrNative.Kernels.Cpu.CpuKernelSettings.ParallelMinWork = 1 << 14;

    static Tolerance T(double atol, double rtol) => new(atol, rtol);

    /// <summary>Scaled logits reach |x/τ| ≈ 150 (τt = 0.04): log-sum-exps of that size carry ~1e-5 absolute rounding,
    /// and 1/τ multiplies where libtorch divides.</summary>
    static readonly Tolerance Fwd = T(1e-4, 1e-5);
    static readonly Tolerance Bwd = T(1e-5, 1e-4);
    /// <summary>The teacher gradient g·p_t·(lse_s − zs − H)/τt takes a difference of terms of size |s|/τs (≈ 50 here)
    /// that nearly cancel where zs is close to its p_t-weighted mean: ~1e-5 absolute on that factor in any float
    /// evaluation (libtorch's autograd included), times p_t/τt.</summary>
    static readonly Tolerance TeacherBwd = T(1e-4, 1e-4);

    static TT Theirs(TT s, TT t, TT c, double ts, double tt)
        => -(TF.softmax((t - c) / tt, -1) * TF.log_softmax(s / ts, -1)).sum(-1);

    [Theory]
    [InlineData("5x37", "37", 0.1f, 0.04f, false)]
    [InlineData("5x37", "37", 0.1f, 0.07f, true)]       // teacher gradient too
    [InlineData("3x4x33", "1x33", 0.1f, 0.04f, false)]  // leading dims, centre (1, D)
    [InlineData("1x1", "1", 0.1f, 0.04f, true)]
    [InlineData("6x4096", "4096", 0.1f, 0.04f, true)]   // DINO's head width
    [InlineData("9x4096", "4096", 0.1f, 0.07f, false)]
    [InlineData("37x5@t", "5", 0.2f, 0.05f, true)]     // transposed views (copied)
    public void DinoCrossEntropy(string rows, string center, float ts, float tt, bool teacherGrad)
    {
        var s = In.Parse(rows);
        var t = teacherGrad ? s : s.NoGrad();
        var c = In.Parse(center).NoGrad().With(Values.Normal(0, 0.5f));
        OpCheck.Check($"dino_cross_entropy(τs={ts}, τt={tt}, teacher grad={teacherGrad})", [s, t, c],
            x => torch.nn.functional.dino_cross_entropy(x[0], x[1], x[2], ts, tt),
            x => Theirs(x[0], x[1], x[2], ts, tt), Fwd, teacherGrad ? TeacherBwd : Bwd, Values.Normal(0, 2));
    }

    /// <summary>The FSR use: a masked mean of the per-token losses (so the upstream gradient differs per row).</summary>
    [Fact]
    public void DinoCrossEntropyMaskedMean()
    {
        var mask = new In { Shape = [2, 7], Grad = false, Values = Values.Mask(0.5) };
        OpCheck.Check("dino_cross_entropy masked mean", ["2x7x64", "2x7x64!", "64!", mask],
            x => torch.nn.functional.dino_cross_entropy(x[0], x[1], x[2], 0.1f, 0.04f).mul(x[3]).sum(1).div(x[3].sum(1).clamp(min: 1f)).mean(),
            x => Theirs(x[0], x[1], x[2], 0.1, 0.04).mul(x[3]).sum(1).div(x[3].sum(1).clamp_min(1)).mean(),
            Fwd, Bwd, Values.Normal(0, 2));
    }

    [Theory]
    [InlineData("12x37", "37")]
    [InlineData("2x6x37", "1x37")]
    [InlineData("300x4096", "4096")]
    public void CenterUpdate(string teacher, string center)
    {
        OpCheck.Check("dino_center_update_", [In.Parse(teacher).NoGrad(), In.Parse(center).NoGrad()],
            x => { var c = x[1].clone(); torch.nn.functional.dino_center_update_(c, x[0], 0.9f); return c; },
            x => x[1] * 0.9 + x[0].reshape(-1, x[0].shape[^1]).mean([0L]).reshape(x[1].shape) * (1 - 0.9),
            T(1e-6, 1e-5), T(0, 0), Values.Normal(0, 2));
    }

    [Fact]
    public void RejectsBadArguments()
    {
        using var scope = torch.NewDisposeScope();
        var s = torch.randn([3, 8]);
        Assert.Throws<ArgumentException>(() => torch.nn.functional.dino_cross_entropy(s, torch.randn([3, 7]), torch.zeros(8), 0.1f, 0.04f));
        Assert.Throws<ArgumentException>(() => torch.nn.functional.dino_cross_entropy(s, s, torch.zeros(7), 0.1f, 0.04f));
        Assert.Throws<ArgumentException>(() => torch.nn.functional.dino_cross_entropy(s, s, torch.zeros(8), 0f, 0.04f));
        Assert.Throws<ArgumentException>(() => torch.nn.functional.dino_center_update_(torch.zeros(7), s, 0.9f));
    }
}
