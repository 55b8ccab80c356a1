using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Oracle;

using TT = TorchSharp.torch.Tensor;
using ts = TorchSharp.torch;
using TF = TorchSharp.torch.nn.functional;
using Reduction = TorchSharp.torch.nn.Reduction;

/// <summary>cross_entropy (ignore index, reductions, class axis 1 of 2-D to 4-D logits, selection mask, empty selection),
/// binary_cross_entropy_with_logits, multilabel_soft_margin_loss, normalize, cosine_similarity_matrix: forward and every
/// input gradient against libtorch.</summary>
[Trait(Categories.Trait, Categories.Oracle)]
public class LossesOracleTests
{
    static LossesOracleTests() => FsrNative.Kernels.Cpu.CpuKernelSettings.ParallelMinWork = 1 << 14;

    static Tolerance T(double atol, double rtol) => new(atol, rtol);
    /// <summary>log-sum-exps and means over dozens to thousands of terms, in other orders than libtorch's.</summary>
    static readonly Tolerance Loss = T(1e-5, 1e-4);

    static Reduction R(string reduction) => reduction switch { "sum" => Reduction.Sum, "none" => Reduction.None, _ => Reduction.Mean };

    /// <summary>Targets in [0, classes) with every <paramref name="everyIgnored"/>-th one set to <paramref name="ignore"/>.</summary>
    static In Targets(int classes, int ignore, int everyIgnored, params int[] shape)
    {
        int n = FsrNative.Shape.NumEl(shape);
        var v = TestRandom.Integers(TestRandom.SeedFor($"targets {classes} {string.Join("x", shape)}"), n, 0, classes);
        if (everyIgnored > 0) for (int i = 1; i < n; i += everyIgnored) v[i] = ignore;
        return In.IndexOf(v, shape);
    }

    // ---- cross_entropy ----------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("6x5", "6", 255, "mean")]
    [InlineData("6x5", "6", 255, "sum")]
    [InlineData("6x5", "6", 255, "none")]
    [InlineData("2x5x3x4", "2x3x4", 255, "mean")]         // (B, K, H, W): class axis strided
    [InlineData("2x5x3x4", "2x3x4", 255, "sum")]
    [InlineData("2x5x3x4", "2x3x4", 255, "none")]
    [InlineData("3x7x5", "3x5", 255, "mean")]             // one spatial axis
    [InlineData("2x21x9x77", "2x9x77", 255, "mean")]      // FSR's 21 classes, positions in chunks of 64 with a tail
    [InlineData("1x3x1000", "1x1000", 255, "none")]
    [InlineData("2x5x3x4@p", "2x3x4", 255, "mean")]       // permuted logits (copied)
    [InlineData("6x5@t", "6", -100, "mean")]              // PyTorch's default ignore_index
    [InlineData("7", "", 255, "mean")]                    // unbatched: (K) with a 0-D target
    public void CrossEntropy(string logits, string target, int ignore, string reduction)
    {
        var x = In.Parse(logits);
        int k = x.Shape.Length == 1 ? x.Shape[0] : x.Shape[1];
        var t = Targets(k, ignore, 5, In.Parse(target == "" ? "()" : target).Shape);
        OpCheck.Check($"cross_entropy(ignore={ignore}, {reduction})", [x, t],
            a => torch.nn.functional.cross_entropy(a[0], a[1], ignore_index: ignore, reduction: reduction),
            a => TF.cross_entropy(a[0], a[1], ignore_index: ignore, reduction: R(reduction)),
            Loss, Loss, Values.Normal(0, 3));
    }

    /// <summary>The selection mask is the same as setting unselected targets to ignore_index in PyTorch.</summary>
    [Theory]
    [InlineData("2x5x3x4", "2x3x4", "mean")]
    [InlineData("2x5x3x4", "2x3x4", "sum")]
    [InlineData("2x5x3x4", "2x3x4", "none")]
    [InlineData("2x21x9x77", "2x9x77", "mean")]
    [InlineData("6x5", "6", "mean")]
    public void CrossEntropyWithSelection(string logits, string target, string reduction)
    {
        var x = In.Parse(logits);
        var shape = In.Parse(target).Shape;
        var t = Targets(x.Shape[1], 255, 7, shape);
        var mask = new In { Shape = shape, Grad = false, Values = Values.Mask(0.6) };
        OpCheck.Check($"cross_entropy(mask, {reduction})", [x, t, mask],
            a => torch.nn.functional.cross_entropy(a[0], a[1], ignore_index: 255, reduction: reduction, mask: a[2]),
            a => TF.cross_entropy(a[0], a[1].masked_fill(a[2].eq(0), 255), ignore_index: 255, reduction: R(reduction)),
            Loss, Loss, Values.Normal(0, 3));
    }

    /// <summary>FSR's bg/fg balanced loss: bg = the positions labelled 0, fg = the others, each averaged on its own.</summary>
    [Fact]
    public void BackgroundForegroundBalanced()
    {
        var shape = new[] { 2, 6, 7 };
        var t = Targets(4, 255, 6, shape);
        OpCheck.Check("bg/fg balanced cross_entropy", ["2x4x6x7", t],
            a =>
            {
                var label = a[1].to(DType.Float32);
                var bg = torch.nn.functional.cross_entropy(a[0], a[1], 255, mask: label.eq(0f));
                var fg = torch.nn.functional.cross_entropy(a[0], a[1], 255, mask: label.ne(0f));
                return bg.add(fg).mul(0.5f);
            },
            a =>
            {
                var bg = TF.cross_entropy(a[0], a[1].masked_fill(a[1].ne(0), 255), ignore_index: 255);
                var fg = TF.cross_entropy(a[0], a[1].masked_fill(a[1].eq(0), 255), ignore_index: 255);
                return (bg + fg) * 0.5;
            },
            Loss, Loss, Values.Normal(0, 3));
    }

    /// <summary>An empty selection gives 0 and zero gradients (PyTorch's ignore-everything mean would be NaN).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CrossEntropyEmptySelection(bool allIgnored)
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.randn([2, 5, 3, 4], requires_grad: true);
        var target = torch.tensor((ReadOnlySpan<int>)Enumerable.Range(0, 24).Select(i => allIgnored ? 255 : i % 5).ToArray(), [2, 3, 4]);
        var mask = allIgnored ? torch.ones([2, 3, 4]) : torch.zeros([2, 3, 4]);
        foreach (var reduction in new[] { "mean", "sum" })
        {
            var loss = torch.nn.functional.cross_entropy(x, target, 255, reduction, mask);
            Assert.Equal(0f, loss.item());
            loss.backward();
            Assert.All(x.grad!.ToArray(), v => Assert.Equal(0f, v));
            x.zero_grad();
        }
    }

    /// <summary>Without a selection, all targets ignored: NaN for "mean", as in PyTorch; zero gradients.</summary>
    [Fact]
    public void CrossEntropyAllIgnoredWithoutSelectionIsNaNLikeTorch()
    {
        var t = In.IndexOf(Enumerable.Repeat(255, 6).ToArray(), 6);
        OpCheck.Check("cross_entropy(all ignored)", ["6x5", t],
            a => torch.nn.functional.cross_entropy(a[0], a[1], ignore_index: 255),
            a => TF.cross_entropy(a[0], a[1], ignore_index: 255), Loss, Loss);
    }

    [Fact]
    public void CrossEntropyRejectsBadTargets()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.randn([2, 5, 3]);
        var bad = torch.tensor((ReadOnlySpan<int>)[0, 1, 5, 2, 255, 3], [2, 3]);
        var e = Assert.Throws<IndexOutOfRangeException>(() => torch.nn.functional.cross_entropy(x, bad, 255));
        Assert.Contains("cross_entropy", e.Message);
        Assert.Contains("5", e.Message);
        Assert.Throws<ArgumentException>(() => torch.nn.functional.cross_entropy(x, torch.zeros([2, 3]), 255));           // float target
        Assert.Throws<ArgumentException>(() => torch.nn.functional.cross_entropy(x, torch.full_int([2, 4], 0), 255));     // shape
        Assert.Throws<ArgumentException>(() => torch.nn.functional.cross_entropy(x, torch.full_int([2, 3], 0), reduction: "avg"));
    }

    // ---- binary cross-entropy with logits, multilabel soft margin ------------------------------------------------------

    [Theory]
    [InlineData("4x6", "mean", false)]
    [InlineData("4x6", "sum", false)]
    [InlineData("4x6", "none", false)]
    [InlineData("2x3x5", "mean", true)]
    [InlineData("4x6@t", "none", true)]
    [InlineData("3x67", "mean", false)]   // vector body and tail
    public void BinaryCrossEntropyWithLogits(string x, string reduction, bool weight)
    {
        var xs = In.Parse(x);
        var y = new In { Shape = xs.Shape, Values = Values.Uniform(0f, 1f) };
        In[] inputs = weight ? [xs, y, new In { Shape = [xs.Shape[^1]], Values = Values.Uniform(0.5f, 2f), Grad = false }] : [xs, y];
        OpCheck.Check($"binary_cross_entropy_with_logits({reduction}, weight={weight})", inputs,
            a => torch.nn.functional.binary_cross_entropy_with_logits(a[0], a[1], weight ? a[2] : null, reduction),
            a => TF.binary_cross_entropy_with_logits(a[0], a[1], weight ? a[2] : null, R(reduction)),
            Loss, Loss, Values.Normal(0, 3));
    }

    /// <summary>Large logits (no overflow, log1p accuracy for tiny e^−|x|) and logits exactly 0 (gradient σ(0) − y = ½ − y).</summary>
    [Theory]
    [InlineData(30f)]
    [InlineData(0f)]
    public void BinaryCrossEntropyWithLogitsExtremes(float std)
    {
        var values = std == 0f ? Values.Ties(-1, 2) : Values.Normal(0, std);
        var y = new In { Shape = [5, 9], Values = Values.Mask() };
        OpCheck.Check($"binary_cross_entropy_with_logits(std={std})", [new In { Shape = [5, 9], Values = values }, y],
            a => torch.nn.functional.binary_cross_entropy_with_logits(a[0], a[1], reduction: "none"),
            a => TF.binary_cross_entropy_with_logits(a[0], a[1], reduction: Reduction.None),
            T(1e-5, 1e-5), T(1e-6, 1e-5));
    }

    [Theory]
    [InlineData("4x20", "mean", false)]
    [InlineData("4x20", "sum", true)]
    [InlineData("4x20", "none", true)]
    [InlineData("1x20", "mean", false)]
    [InlineData("20x4@t", "mean", false)]
    public void MultilabelSoftMargin(string x, string reduction, bool weight)
    {
        var xs = In.Parse(x);
        var y = new In { Shape = xs.Shape, Values = Values.Mask(0.3), Grad = false };
        In[] inputs = weight ? [xs, y, new In { Shape = [xs.Shape[^1]], Values = Values.Uniform(0.5f, 2f), Grad = false }] : [xs, y];
        OpCheck.Check($"multilabel_soft_margin_loss({reduction}, weight={weight})", inputs,
            a => torch.nn.functional.multilabel_soft_margin_loss(a[0], a[1], weight ? a[2] : null, reduction),
            a => TF.multilabel_soft_margin_loss(a[0], a[1], weight ? a[2] : null, R(reduction)),
            Loss, Loss, Values.Normal(0, 3));
    }

    // ---- normalize, cosine similarity ---------------------------------------------------------------------------------

    [Theory]
    [InlineData("5x8", 2f, 1, 1e-12f)]
    [InlineData("2x3x8", 2f, -1, 1e-12f)]
    [InlineData("2x3x8", 2f, 0, 1e-12f)]
    [InlineData("4x7", 1f, 1, 1e-12f)]
    [InlineData("4x7", 3f, 1, 1e-12f)]
    [InlineData("6x4", 2f, 1, 1.5f)]        // some norms below eps: the denominator is the constant eps there
    [InlineData("5x8@t", 2f, 1, 1e-12f)]
    [InlineData("3x8@e0", 2f, 1, 1e-12f)]
    public void Normalize(string x, float p, int dim, float eps)
    {
        OpCheck.Check($"normalize(p={p}, dim={dim}, eps={eps})", [x],
            a => torch.nn.functional.normalize(a[0], p, dim, eps),
            a => TF.normalize(a[0], p, dim, eps), Loss, T(1e-5, 1e-4), Values.Normal());
    }

    /// <summary>All-zero rows: y = 0 and the gradient is g/eps there (PyTorch's norm backward gives 0 for ‖x‖ = 0).</summary>
    [Fact]
    public void NormalizeZeroRows()
    {
        var values = Values.Fixed(0, 0, 0, 1, -2, 3, 0, 0, 0, 0.5f, 0.25f, -1);
        OpCheck.Check("normalize(zero rows)", ["4x3"], a => torch.nn.functional.normalize(a[0], 2f, 1, 1e-6f),
            a => TF.normalize(a[0], 2, 1, 1e-6), Loss, T(1e-5, 1e-4), values);
    }

    [Theory]
    [InlineData("5x8", "7x8")]
    [InlineData("2x5x8", "2x6x8")]
    [InlineData("2x9x16", "2x9x16")]
    [InlineData("5x8@t", "7x8")]
    public void CosineSimilarityMatrix(string a, string b)
    {
        OpCheck.Check("cosine_similarity_matrix", [a, b],
            x => torch.nn.functional.cosine_similarity_matrix(x[0], x[1]),
            x => TF.normalize(x[0], 2, -1, 1e-8).matmul(TF.normalize(x[1], 2, -1, 1e-8).transpose(-1, -2)),
            Loss, Loss, Values.Normal());
    }

    /// <summary>Self-similarity (the patch-token contrast: one token set against itself).</summary>
    [Fact]
    public void CosineSimilarityMatrixOfOneTensorWithItself()
    {
        OpCheck.Check("cosine_similarity_matrix(x, x)", ["2x11x16"],
            x => torch.nn.functional.cosine_similarity_matrix(x[0], x[0]),
            x => { var n = TF.normalize(x[0], 2, -1, 1e-8); return n.matmul(n.transpose(-1, -2)); },
            Loss, Loss, Values.Normal());
    }
}
