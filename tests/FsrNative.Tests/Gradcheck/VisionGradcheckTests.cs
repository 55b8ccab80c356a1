using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Gradcheck;

/// <summary>
/// Backward rules of the resampling, centering, losses and weight-norm families against central finite differences in
/// float64 (the CPU backend's reference kernels), on small shapes. Default options: eps 1e-6, atol 1e-5, rtol 1e-3.
/// </summary>
[Trait(Categories.Trait, Categories.Gradcheck)]
public class ResamplingGradcheckTests
{
    [Theory]
    [InlineData("nearest", null, "5x3")]
    [InlineData("bilinear", false, "5x3")]
    [InlineData("bilinear", true, "5x3")]
    [InlineData("bicubic", false, "5x3")]
    [InlineData("bicubic", true, "2x7")]
    [InlineData("bilinear", false, "2x2")]   // downsampling
    [InlineData("bicubic", false, "1x2")]
    public void Interpolate(string mode, bool? align, string size)
    {
        var s = In.Parse(size).Shape;
        GC.Check($"interpolate({mode}, {align}, {size})", ["1x2x3x4"], x => torch.nn.functional.interpolate(x[0], size: s, mode: mode, align_corners: align));
    }

    [Fact]
    public void InterpolateByScaleFactorOfAView()
    {
        GC.Check("interpolate(scale 1.7, bicubic, @t)", ["1x2x4x3@t"],
            x => torch.nn.functional.interpolate(x[0], scale_factor: [1.7, 0.6], mode: "bicubic"));
    }

    [Theory]
    [InlineData(new[] { 2 })]
    [InlineData(new[] { 0, 2 })]
    public void Flip(int[] dims) => GC.Check("flip", ["2x3x4"], x => x[0].flip(dims).mul(x[0].flip(dims)));
}

[Trait(Categories.Trait, Categories.Gradcheck)]
public class CenteringGradcheckTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DinoCrossEntropy(bool teacherGrad)
    {
        var s = In.Parse("3x7");
        GC.Check($"dino_cross_entropy(teacher grad={teacherGrad})", [s, teacherGrad ? s : s.NoGrad(), In.Parse("7!")],
            x => torch.nn.functional.dino_cross_entropy(x[0], x[1], x[2], 0.5f, 0.25f), Values.Normal(0, 1));
    }
}

[Trait(Categories.Trait, Categories.Gradcheck)]
public class LossesGradcheckTests
{
    static In Targets(int[] values, params int[] shape) => In.IndexOf(values, shape);

    [Theory]
    [InlineData("mean", false)]
    [InlineData("sum", false)]
    [InlineData("none", false)]
    [InlineData("mean", true)]
    public void CrossEntropy(string reduction, bool mask)
    {
        var t = Targets([0, 2, 255, 1, 3, 2, 255, 0, 1, 3, 3, 0], 2, 2, 3);
        var m = new In { Shape = [2, 2, 3], Grad = false, Values = Values.Fixed(1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1) };
        GC.Check($"cross_entropy({reduction}, mask={mask})", mask ? ["2x4x2x3", t, m] : ["2x4x2x3", t],
            x => torch.nn.functional.cross_entropy(x[0], x[1], 255, reduction, mask ? x[2] : null), Values.Normal(0, 2));
        GC.Check($"cross_entropy rows({reduction})", ["5x4", Targets([3, 255, 0, 1, 2], 5)],
            x => torch.nn.functional.cross_entropy(x[0], x[1], 255, reduction), Values.Normal(0, 2));
    }

    [Fact]
    public void BinaryCrossEntropyWithLogits()
    {
        var y = new In { Shape = [3, 4], Values = Values.Uniform(0, 1) };
        GC.Check("binary_cross_entropy_with_logits", ["3x4", y], x => torch.nn.functional.binary_cross_entropy_with_logits(x[0], x[1], reduction: "none"),
            Values.Normal(0, 3));
        GC.Check("binary_cross_entropy_with_logits(weight)", ["3x4", y, In.Parse("4!")],
            x => torch.nn.functional.binary_cross_entropy_with_logits(x[0], x[1], x[2]), Values.Normal(0, 3));
    }

    [Fact]
    public void MultilabelSoftMargin()
    {
        var y = new In { Shape = [3, 5], Values = Values.Mask(), Grad = false };
        GC.Check("multilabel_soft_margin_loss", ["3x5", y], x => torch.nn.functional.multilabel_soft_margin_loss(x[0], x[1]), Values.Normal(0, 2));
    }

    [Theory]
    [InlineData(2f, 1, 1e-12f)]
    [InlineData(2f, 0, 1e-12f)]
    [InlineData(1f, 1, 1e-12f)]
    [InlineData(3f, 1, 1e-12f)]
    [InlineData(2f, 1, 1.2f)]   // some norms clamped to eps
    public void Normalize(float p, int dim, float eps)
        => GC.Check($"normalize(p={p}, dim={dim}, eps={eps})", ["4x3"], x => torch.nn.functional.normalize(x[0], p, dim, eps), Values.AwayFromZero(0.2f, 1f));

    [Fact]
    public void CosineSimilarityMatrix()
    {
        GC.Check("cosine_similarity_matrix", ["2x3x4", "2x5x4"], x => torch.nn.functional.cosine_similarity_matrix(x[0], x[1]));
        GC.Check("cosine_similarity_matrix(x, x)", ["3x4"], x => torch.nn.functional.cosine_similarity_matrix(x[0], x[0]));
    }
}

[Trait(Categories.Trait, Categories.Gradcheck)]
public class WeightNormGradcheckTests
{
    [Theory]
    [InlineData("4x3", "4", 0)]
    [InlineData("4x3", "4x1", 0)]
    [InlineData("3x4", "4", 1)]
    [InlineData("2x3x2", "2x1x1", 0)]
    public void WeightNorm(string v, string g, int dim)
        => GC.Check($"weight_norm({v}, {g}, {dim})", [v, new In { Shape = In.Parse(g).Shape, Values = Values.Uniform(0.5f, 2f) }],
            x => torch.nn.functional.weight_norm(x[0], x[1], dim), Values.Normal());
}
