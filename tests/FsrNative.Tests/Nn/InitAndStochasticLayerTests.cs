using FsrNative.Nn;
using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Nn;

/// <summary>
/// Initialisers (timm's recipe, checked by their statistics and bounds) and the random layers, whose masks come
/// from our Philox generator and so cannot be compared with libtorch value by value: dropout and drop-path are
/// checked by their rules (scaling, per-sample masks, eval identity, gradient = mask, reproducible by seed).
/// </summary>
[Trait(Categories.Trait, NnCategory.Name)]
public class InitAndStochasticLayerTests
{
    static (double mean, double std, double min, double max) Stats(Tensor t)
    {
        var v = t.ToArray();
        double mean = v.Average(x => (double)x);
        double std = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
        return (mean, std, v.Min(), v.Max());
    }

    [Fact]
    public void VitInitFollowsTimm()
    {
        // A private generator: the default one is shared with tests running in parallel, and these statistical bounds
        // (≈ 3–6 σ on a few hundred draws) should not depend on where its stream happens to be.
        using var vit = new VisionTransformer(new VitConfig { ImgSize = 64, PatchSize = 16, EmbedDim = 96, Depth = 2, NumHeads = 3, NumClasses = 10 }, generator: new Generator(20240));
        foreach (var (name, p) in vit.named_parameters())
        {
            var (mean, std, min, max) = Stats(p);
            if (name.EndsWith(".bias") && !name.StartsWith("patch_embed") && !name.Contains("norm")) Assert.True(min == 0 && max == 0, $"{name} should be zero");
            else if (name.Contains("norm") && name.EndsWith(".weight")) Assert.True(min == 1 && max == 1, $"{name} should be ones");
            else if (name.Contains("norm") && name.EndsWith(".bias")) Assert.True(min == 0 && max == 0, $"{name} should be zeros");
            else if (name == "cls_token") Assert.True(Math.Abs(max) < 1e-5 && std > 0, $"cls_token std 1e-6: {std}");
            else if (name == "patch_embed.proj.weight" || name == "patch_embed.proj.bias")
            {
                double bound = 1 / Math.Sqrt(3 * 16 * 16);   // PyTorch's default conv init
                Assert.True(max <= bound && min >= -bound && std > bound / 2, $"{name}: U(±{bound}) expected, got [{min}, {max}], std {std}");
            }
            else Assert.True(Math.Abs(std - 0.02) < 0.002 && Math.Abs(mean) < 0.002, $"{name}: trunc_normal(0.02) expected, got mean {mean}, std {std}");
        }
    }

    [Fact]
    public void KaimingNormalFanOut()
    {
        using var t = torch.empty([64, 32, 3, 3]);
        init.kaiming_normal_(t, mode: "fan_out", nonlinearity: "relu");
        var (_, std, _, _) = Stats(t);
        Assert.Equal(Math.Sqrt(2.0 / (64 * 9)), std, 0.004);
    }

    [Fact]
    public void TruncNormalWithTightBoundsStaysInside()
    {
        using var t = torch.empty([20000]);
        init.trunc_normal_(t, mean: 0f, std: 1f, a: -0.5f, b: 1f);
        var (_, _, min, max) = Stats(t);
        Assert.True(min >= -0.5 && max <= 1.0);
        Assert.True(min < -0.49 && max > 0.99);
    }

    [Fact]
    public void LinearDefaultInitIsUniformOneOverSqrtFanIn()
    {
        using var lin = new Linear(256, 512);
        var (_, std, min, max) = Stats(lin.weight);
        Assert.True(min >= -1 / 16.0 && max <= 1 / 16.0);
        Assert.Equal(1 / 16.0 / Math.Sqrt(3), std, 0.002);
        var b = Stats(lin.bias!);
        Assert.True(b.min >= -1 / 16.0 && b.max <= 1 / 16.0);
    }

    [Fact]
    public void SameSeedSameInit()
    {
        torch.manual_seed(42);
        using var a = new Mlp(8, 16);
        torch.manual_seed(42);
        using var b = new Mlp(8, 16);
        Assert.Equal(a.fc1.weight.ToArray(), b.fc1.weight.ToArray());
        Assert.Equal(a.fc2.bias!.ToArray(), b.fc2.bias!.ToArray());
    }

    [Fact]
    public void DropoutScalesSurvivorsAndItsGradientIsTheMask()
    {
        using var scope = torch.NewDisposeScope();
        var gen = new Generator(7);
        using var drop = new Dropout(0.25f, gen);
        var x = torch.ones([100000], requires_grad: true);
        var y = drop.forward(x);
        var v = y.ToArray();
        int zeros = v.Count(e => e == 0);
        Assert.All(v, e => Assert.True(e == 0 || Math.Abs(e - 1 / 0.75f) < 1e-6));
        Assert.InRange(zeros / 100000.0, 0.24, 0.26);
        y.sum().backward();
        Assert.Equal(v, x.grad!.ToArray());
        drop.eval();
        Assert.Same(x, drop.forward(x));
    }

    [Fact]
    public void DropPathDropsWholeSamples()
    {
        using var scope = torch.NewDisposeScope();
        var gen = new Generator(3);
        using var dp = new DropPath(0.5f, generator: gen);
        var x = torch.ones([64, 5, 7]);
        var y = dp.forward(x).reshape(64, 35).ToArray();
        int dropped = 0;
        for (int s = 0; s < 64; s++)
        {
            var row = y.Skip(s * 35).Take(35).Distinct().ToArray();
            Assert.Single(row);
            Assert.True(row[0] == 0 || row[0] == 2f, $"sample {s}: {row[0]}");
            if (row[0] == 0) dropped++;
        }
        Assert.InRange(dropped, 16, 48);
        dp.eval();
        Assert.Same(x, dp.forward(x));
        using var none = new DropPath(0f);
        Assert.Same(x, none.forward(x));
    }

    [Fact]
    public void StochasticLayersAreReproducibleFromTheGeneratorState()
    {
        using var scope = torch.NewDisposeScope();
        var gen = new Generator(11);
        using var block = new Block(8, 2, dropPath: 0.5f, projDrop: 0.2f, generator: gen);
        var x = torch.randn([6, 4, 8]);
        var state = gen.get_state();
        var first = block.forward(x).ToArray();
        var second = block.forward(x).ToArray();
        Assert.NotEqual(first, second);
        gen.set_state(state);
        Assert.Equal(first, block.forward(x).ToArray());
    }
}
