using FsrNative.Crf;
using FsrNative.Tests.Infrastructure;
using Xunit.Abstractions;

namespace FsrNative.Tests.Golden;

/// <summary>
/// The CRF family against the authors' PyTorch run in the golden file (<see cref="GoldenFile"/>; its README §4.2):
/// the raw permutohedral bilateral filter of the dense-energy loss (rloss's C++ lattice: bit-identical here), the loss
/// value itself, and PAR's outputs for both images and both background levels, at the README's §7 tolerances.
/// Skipped, with the reason, where the golden file is absent.
/// </summary>
[Trait(Categories.Trait, Categories.Golden)]
public class CrfGoldenTests(ITestOutputHelper output)
{
    static CrfGoldenTests() => FsrNative.Kernels.Cpu.CpuKernelSettings.ParallelMinWork = 1 << 14;

    [GoldenFact]
    public void BilateralFilterOfTheDenseEnergyLoss_IsBitIdentical()
    {
        var g = GoldenFile.Shared;
        using var scope = torch.NewDisposeScope();
        var images = g.Tensor("step0.reg.filter_in_image");
        var probs = g.Tensor("step0.reg.filter_in_prob");
        var ours = Bilateral.Filter(images, probs, 50f, 15f);   // σ_xy 100 × scale 0.5, σ_rgb 15
        GoldenAssert.Close(g, "step0.reg.filter_out", ours, 0, 0);
    }

    [GoldenFact]
    public void DenseEnergyLoss()
    {
        var g = GoldenFile.Shared;
        using var scope = torch.NewDisposeScope();
        var images = g.Tensor("step0.reg.filter_in_image");
        var probs = g.Tensor("step0.reg.filter_in_prob");
        // The pseudo labels at the loss's resolution: nearest ×0.5 of the (B, 96, 96) PAR labels.
        var labels = g.Tensor("step0.cam.pseudo_label1").to(DType.Float32);
        var small = torch.nn.functional.interpolate(labels.unsqueeze(1), scale_factor: [0.5], mode: "nearest", recompute_scale_factor: true).squeeze(1);
        var loss = DenseEnergy.Loss(images, probs, small).ToArray();
        var expected = g.Floats("step0.loss.reg");
        output.WriteLine($"dense-energy loss {loss[0]:R}, reference {expected[0]:R}");
        GoldenAssert.Close("step0.loss.reg (incl. its 1e-7 weight)", expected, loss, 1e-5, 0);   // §7: loss terms, relative 1e-5
    }

    [GoldenTheory]
    [InlineData("img0", "high")]
    [InlineData("img0", "low")]
    [InlineData("img1", "high")]
    [InlineData("img1", "low")]
    public void Par(string image, string level)
    {
        var g = GoldenFile.Shared;
        string prefix = $"step0.par.{image}.{level}.";
        using var scope = torch.NewDisposeScope();
        var ours = FsrNative.Crf.Par.Refine(g.Tensor(prefix + "in_image"), g.Tensor(prefix + "in_prob"));
        GoldenAssert.Close(g, prefix + "out_prob", ours, 1e-5, 1e-6);   // §7: PAR probabilities
    }
}
