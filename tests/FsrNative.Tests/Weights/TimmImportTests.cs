using FsrNative.Nn;
using FsrNative.Tests.Infrastructure;
using FsrNative.Tests.Nn;
using FsrNative.Weights;

namespace FsrNative.Tests.Weights;

using TT = TorchSharp.torch.Tensor;
using ts = TorchSharp.torch;

/// <summary>
/// Import of a timm ViT file. No weights can be downloaded here, so the test makes a random small ViT in libtorch
/// with timm's key names and shapes (patch 16, 224 px: a 1 + 14×14 position embedding), writes it with a writer
/// independent of ours (as F32, or as BF16/F16 with libtorch's rounding), loads it into our VisionTransformer at
/// 224 px and at other sizes (the embedding resized at load: 14×14 → 10×10, 28×28 as FSR does), and compares our
/// forward with timm's forward written in TorchSharp ops (<see cref="TimmReference"/>, which resizes with
/// F.interpolate) to 1e-4.
/// </summary>
[Trait(Categories.Trait, Categories.Oracle)]
public sealed class TimmImportTests : IDisposable
{
    const int D = 48, Depth = 2, Heads = 3, Classes = 7;
    readonly string _dir = Directory.CreateTempSubdirectory("fsr-timm-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static Dictionary<string, long[]> TimmShapes()
    {
        var s = new Dictionary<string, long[]>
        {
            ["cls_token"] = [1, 1, D], ["pos_embed"] = [1, 197, D],
            ["patch_embed.proj.weight"] = [D, 3, 16, 16], ["patch_embed.proj.bias"] = [D],
        };
        for (int i = 0; i < Depth; i++)
        {
            string b = $"blocks.{i}.";
            s[b + "norm1.weight"] = [D]; s[b + "norm1.bias"] = [D];
            s[b + "attn.qkv.weight"] = [3 * D, D]; s[b + "attn.qkv.bias"] = [3 * D];
            s[b + "attn.proj.weight"] = [D, D]; s[b + "attn.proj.bias"] = [D];
            s[b + "norm2.weight"] = [D]; s[b + "norm2.bias"] = [D];
            s[b + "mlp.fc1.weight"] = [4 * D, D]; s[b + "mlp.fc1.bias"] = [4 * D];
            s[b + "mlp.fc2.weight"] = [D, 4 * D]; s[b + "mlp.fc2.bias"] = [D];
        }
        s["norm.weight"] = [D]; s["norm.bias"] = [D];
        s["head.weight"] = [Classes, D]; s["head.bias"] = [Classes];
        return s;
    }

    /// <summary>Random weights in libtorch (norm weights near 1), rounded through <paramref name="dtype"/>, and
    /// the file holding them.</summary>
    (Dictionary<string, TT> weights, string path) MakeCheckpoint(string dtype)
    {
        Torch.EnsureInitialized();
        ts.manual_seed(7);
        var weights = new Dictionary<string, TT>();
        var items = new List<RawSafetensors.Item>();
        foreach (var (key, shape) in TimmShapes())
        {
            var t = ts.randn(shape) * (key.Contains("patch_embed") ? 0.05 : 0.2);
            if (key.Contains("norm") && key.EndsWith("weight")) t = t + 1.0;
            var st = dtype switch { "F16" => ts.ScalarType.Float16, "BF16" => ts.ScalarType.BFloat16, _ => ts.ScalarType.Float32 };
            t = t.to_type(st).to_type(ts.ScalarType.Float32);
            weights[key] = t;
            var values = Torch.ToArray(t);
            items.Add(new(key, dtype, shape, dtype switch { "F16" => RawSafetensors.F16(values), "BF16" => RawSafetensors.BF16(values), _ => RawSafetensors.F32(values) }));
        }
        string path = Path.Combine(_dir, $"vit_{dtype}.safetensors");
        File.WriteAllBytes(path, RawSafetensors.Build(items, new Dictionary<string, string> { ["format"] = "pt" }));
        return (weights, path);
    }

    static VitConfig Config(int img, int classes = Classes) => new() { ImgSize = img, PatchSize = 16, EmbedDim = D, Depth = Depth, NumHeads = Heads, NumClasses = classes };

    void Check(string dtype, int modelImg, int h, int w, int batch, int classes = Classes)
    {
        var (weights, path) = MakeCheckpoint(dtype);
        using var scope = torch.NewDisposeScope();
        using var tsScope = ts.NewDisposeScope();
        using var vit = new VisionTransformer(Config(modelImg, classes));
        var report = TimmVit.load(vit, path);
        int g = modelImg / 16;
        Assert.Equal(g == 14 ? null : (14, 14), report.PosEmbedResizedFrom);
        Assert.Equal(classes == Classes ? [] : ["head.bias", "head.weight"], report.Skipped.Order());
        Assert.Empty(report.Missing);
        Assert.Equal([1, 1 + g * g, D], vit.pos_embed.shape);
        vit.eval();

        var image = TestRandom.Normal(11, batch * 3 * h * w);
        var ours = vit.forward(torch.tensor(image, [batch, 3, h, w])).ToArray();
        var timm = TimmReference.Vit(weights, ts.tensor(image, [batch, 3, h, w]), 16, Depth, Heads, (14, 14), head: classes == Classes);
        var report2 = Close.Compare(Torch.ToArray(timm), ours, 1e-4, 1e-4, $"ViT from a {dtype} timm file, model {modelImg} px, input {h}×{w}");
        if (report2 is not null) throw new Xunit.Sdk.XunitException(report2);
    }

    [Theory]
    [InlineData("F32")]
    [InlineData("BF16")]
    [InlineData("F16")]
    public void SameGrid(string dtype) => Check(dtype, 224, 224, 224, 2);

    [Fact]
    public void ResizedAtLoadToASmallerGrid() => Check("F32", 160, 160, 160, 2);

    [Fact]
    public void ResizedAtLoadTo28x28AsFsrDoes() => Check("F32", 448, 448, 448, 1);

    [Fact]
    public void ResizedOnTheFlyForANonSquareInput() => Check("F32", 224, 192, 256, 1);

    [Fact]
    public void HeadOfAnotherSizeIsSkipped() => Check("F32", 224, 224, 224, 1, classes: 0);

    [Fact]
    public void UnknownKeysFailWithOneListingError()
    {
        var (_, path) = MakeCheckpoint("F32");
        using var scope = torch.NewDisposeScope();
        using var vit = new VisionTransformer(Config(224) with { Depth = 1 });
        var e = Assert.Throws<StateDictException>(() => TimmVit.load(vit, path));
        Assert.Contains("blocks.1.mlp.fc2.bias", e.Unexpected);
        Assert.Equal(12, e.Unexpected.Count);
        var report = TimmVit.load(vit, path, strict: false);
        Assert.Equal(2 + 2 + 12 + 2 + 2, report.Loaded.Count);   // tokens, patch embedding, block 0, norm, head
    }
}
