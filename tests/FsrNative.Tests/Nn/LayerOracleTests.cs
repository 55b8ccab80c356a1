using FsrNative.Nn;
using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Nn;

using TT = TorchSharp.torch.Tensor;
using ts = TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

/// <summary>
/// Every layer against libtorch with the same weights: forward output, input gradient and each parameter's
/// gradient. torch.nn modules where TorchSharp has one in the same layout (Linear, LayerNorm, Conv2d, GELU,
/// Dropout in eval mode), timm's forward written in TorchSharp ops otherwise (<see cref="TimmReference"/>).
/// Parameters are randomised first so that ones/zeros initialisations cannot hide a wrong gradient.
/// </summary>
[Trait(Categories.Trait, Categories.Oracle)]
public class LayerOracleTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Linear(bool bias)
    {
        using var ours = new Linear(7, 5, bias);
        using var theirs = ts.nn.Linear(7, 5, bias);
        ModuleOracle.CheckAgainstModule($"Linear(bias={bias})", ours, theirs, [3, 4, 7]);
    }

    [Fact]
    public void LayerNorm()
    {
        using var ours = new LayerNorm(9, 1e-6f);
        ModuleOracle.Randomize(ours, 3);
        using var theirs = ts.nn.LayerNorm(9, 1e-6);
        ModuleOracle.CheckAgainstModule("LayerNorm", ours, theirs, [2, 5, 9]);
    }

    [Theory]
    [InlineData(4, 9, 13)]     // remainder rows and columns dropped
    [InlineData(1, 5, 6)]      // 1×1 convolution
    [InlineData(3, 6, 9)]
    public void Conv2dPatch(int k, int h, int w)
    {
        using var ours = new Conv2d(3, 5, k, k);
        using var theirs = ts.nn.Conv2d(3, 5, k, stride: k);
        ModuleOracle.CheckAgainstModule($"Conv2d(k=s={k}) on {h}×{w}", ours, theirs, [2, 3, h, w]);
    }

    [Theory]
    [InlineData(3, 1, 1, 1, 7, 9)]       // 3×3, same padding
    [InlineData(3, 1, 5, 5, 13, 12)]     // the DeepLab-LargeFOV decoder's dilated 3×3 (dilation 5, padding 5)
    [InlineData(3, 2, 1, 1, 9, 8)]       // strided
    [InlineData(2, 1, 0, 2, 6, 7)]       // dilated without padding
    [InlineData(5, 3, 2, 1, 11, 10)]
    public void Conv2dGeneral(int k, int s, int p, int d, int h, int w)
    {
        using var ours = new Conv2d(4, 6, k, s, p, d);
        using var theirs = ts.nn.Conv2d(4, 6, k, stride: s, padding: p, dilation: d);
        ModuleOracle.CheckAgainstModule($"Conv2d(k={k}, s={s}, p={p}, d={d}) on {h}×{w}", ours, theirs, [2, 4, h, w]);
    }

    [Fact]
    public void Conv2dWithoutBias()
    {
        using var ours = new Conv2d(3, 5, 3, padding: 1, bias: false);
        using var theirs = ts.nn.Conv2d(3, 5, 3, padding: 1, bias: false);
        ModuleOracle.CheckAgainstModule("Conv2d(bias=False)", ours, theirs, [1, 3, 6, 5]);
    }

    [Fact]
    public void Gelu()
    {
        using var ours = new GELU();
        using var theirs = ts.nn.GELU();
        ModuleOracle.CheckAgainstModule("GELU", ours, theirs, [4, 11]);
    }

    [Fact]
    public void DropoutInEvalModeIsIdentity()
    {
        using var ours = new Dropout(0.3f);
        ours.eval();
        using var theirs = ts.nn.Dropout(0.3);
        theirs.eval();
        ModuleOracle.CheckAgainstModule("Dropout.eval", ours, theirs, [4, 6]);
    }

    [Fact]
    public void Mlp()
    {
        using var ours = new Mlp(6, 10, 4);
        ModuleOracle.Randomize(ours, 5, 0.3f);
        ModuleOracle.CheckAgainstFunction("Mlp", ours, (w, x) => TimmReference.Mlp(w, "", x) , [2, 3, 6]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Attention(bool qkvBias)
    {
        using var ours = new Attention(12, 3, qkvBias);
        ModuleOracle.Randomize(ours, 7, 0.3f);
        ModuleOracle.CheckAgainstFunction($"Attention(qkv_bias={qkvBias})", ours, (w, x) => TimmReference.Attention(w, "", x, 3), [2, 5, 12]);
    }

    [Fact]
    public void Block()
    {
        using var ours = new Block(12, 4, qkvBias: true);
        ModuleOracle.Randomize(ours, 11, 0.3f);
        ModuleOracle.CheckAgainstFunction("Block", ours, (w, x) => TimmReference.Block(w, "", x, 4), [2, 7, 12]);
    }

    [Fact]
    public void BlockWithLayerScale()
    {
        using var ours = new Block(8, 2, qkvBias: true, initValues: 0.1f);
        ModuleOracle.Randomize(ours, 13, 0.3f);
        ModuleOracle.CheckAgainstFunction("Block(LayerScale)", ours, (w, x) =>
        {
            x = x + TimmReference.Attention(w, "attn", TimmReference.LayerNorm(w, "norm1", x, 1e-6), 2) * w["ls1.gamma"];
            return x + TimmReference.Mlp(w, "mlp", TimmReference.LayerNorm(w, "norm2", x, 1e-6)) * w["ls2.gamma"];
        }, [2, 3, 8]);
    }

    [Fact]
    public void PatchEmbed()
    {
        using var ours = new PatchEmbed(imgSize: 32, patchSize: 8, inChans: 3, embedDim: 10);
        ModuleOracle.CheckAgainstFunction("PatchEmbed", ours, (w, x) => TimmReference.PatchEmbed(w, "", x, 8), [2, 3, 32, 40]);
    }

    static readonly VitConfig Small = new() { ImgSize = 32, PatchSize = 8, EmbedDim = 24, Depth = 2, NumHeads = 3, NumClasses = 5 };

    [Fact]
    public void VisionTransformer()
    {
        using var ours = new VisionTransformer(Small);
        ModuleOracle.Randomize(ours, 17, 0.2f);
        ModuleOracle.CheckAgainstFunction("VisionTransformer", ours, (w, x) => TimmReference.Vit(w, x, 8, 2, 3, (4, 4)), [2, 3, 32, 32]);
    }

    [Theory]
    [InlineData(48, 40, false)]    // 4×4 position grid → 6×5 (upsampled, non-square)
    [InlineData(24, 16, false)]    // → 3×2 (downsampled)
    [InlineData(48, 40, true)]     // timm ≥ 0.9's antialiased resize
    public void VisionTransformerOnAnotherGridResizesThePositionEmbedding(int h, int w, bool antialias)
    {
        using var ours = new VisionTransformer(Small with { PosEmbedAntialias = antialias });
        ModuleOracle.Randomize(ours, 19, 0.2f);
        ModuleOracle.CheckAgainstFunction($"VisionTransformer on {h}×{w} (antialias={antialias})", ours,
            (wt, x) => TimmReference.Vit(wt, x, 8, 2, 3, (4, 4), antialias), [2, 3, h, w]);
    }

    [Fact]
    public void WeightNormLinearWithFixedGain()
    {
        using var ours = new WeightNormLinear(6, 9);
        ModuleOracle.Randomize(ours, 23);
        using (torch.no_grad()) ours.weight_g.fill_(1f);
        ModuleOracle.CheckAgainstFunction("WeightNormLinear(fixed gain)", ours,
            (w, x) => F.linear(x, w["weight_v"] * (w["weight_g"] / w["weight_v"].norm(1, true))), [4, 6]);
    }

    [Fact]
    public void WeightNormLinearWithTrainedGainAndBias()
    {
        using var ours = new WeightNormLinear(5, 7, bias: true, fixedGain: false);
        ModuleOracle.Randomize(ours, 29);
        ModuleOracle.CheckAgainstFunction("WeightNormLinear(trained gain)", ours,
            (w, x) => F.linear(x, w["weight_v"] * (w["weight_g"] / w["weight_v"].norm(1, true)), w["bias"]), [3, 5]);
    }

    [Theory]
    [InlineData(14, 14, 28, 28, false)]
    [InlineData(14, 14, 10, 10, false)]
    [InlineData(6, 9, 11, 5, false)]
    [InlineData(14, 14, 28, 28, true)]
    [InlineData(14, 14, 9, 12, true)]
    [InlineData(1, 3, 4, 2, false)]
    // Sums of 16 float products of size ~1 that cancel to ~0.01 differ by a few 1e-6 between summation orders.
    public void BicubicResizeMatchesInterpolate(int h, int w, int oh, int ow, bool antialias)
    {
        Torch.EnsureInitialized();
        using var scope = torch.NewDisposeScope();
        using var tsScope = ts.NewDisposeScope();
        const int c = 5;
        var data = TestRandom.Normal(31, h * w * c);
        var x = torch.tensor(data, [1, h, w, c]);
        var ours = Functional.resize_bicubic_channels_last(x, oh, ow, antialias);
        var tx = ts.tensor(data, [1, h, w, c], ts.ScalarType.Float32).permute(0, 3, 1, 2);
        var theirs = F.interpolate(tx, [oh, ow], mode: ts.InterpolationMode.Bicubic, align_corners: false, antialias: antialias).permute(0, 2, 3, 1);
        var report = Close.Compare(Torch.ToArray(theirs), ours.ToArray(), 1e-5, 1e-5, $"bicubic {h}×{w} → {oh}×{ow} (antialias={antialias})", ours.shape);
        if (report is not null) throw new Xunit.Sdk.XunitException(report);
    }
}
