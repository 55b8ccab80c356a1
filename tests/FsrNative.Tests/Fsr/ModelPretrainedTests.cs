using FsrNative.Model;
using FsrNative.Nn;
using Xunit;

namespace FsrNative.Tests.Fsr;

/// <summary>timm ViT weights into the FSR encoder (fsr-spec §3.1): head dropped, position embedding resized, class
/// token as the aggregation query, mask token and aggregation blocks left to their init.</summary>
[Trait("Category", FsrCategory.Name)]
public sealed class ModelPretrainedTests
{
    [Fact]
    public void Timm_weights_load_with_the_position_embedding_resized_and_new_parts_kept()
    {
        var cfg = ModelTestSupport.Tiny;
        using var vit = new VisionTransformer(new VitConfig { ImgSize = 16, PatchSize = 8, EmbedDim = 12, Depth = 3, NumHeads = 3, NumClasses = 5 }, generator: new Generator(40));
        using var enc = new FsrEncoder(cfg, generator: new Generator(41));
        var maskToken = enc.mask_token.ToArray();
        var clsBlock = enc.cls_blocks[0].attn.k.weight.ToArray();
        var report = PretrainedEncoder.load_timm(enc, vit.state_dict());
        Assert.Equal((2, 2), report.PosEmbedResizedFrom);
        Assert.Equal(["head.weight", "head.bias"], report.Skipped);
        Assert.Contains("mask_token", report.Missing);
        Assert.All(report.Missing, k => Assert.True(k == "mask_token" || k.StartsWith("cls_blocks.", StringComparison.Ordinal), k));
        Assert.Equal(vit.cls_token!.ToArray(), enc.cls_token.ToArray());
        Assert.Equal(vit.blocks[2].mlp.fc2.weight.ToArray(), enc.blocks[2].mlp.fc2.weight.ToArray());
        Assert.Equal(maskToken, enc.mask_token.ToArray());
        Assert.Equal(clsBlock, enc.cls_blocks[0].attn.k.weight.ToArray());
        Assert.Equal([1, 17, 12], enc.pos_embed.shape);
        using (torch.NewDisposeScope())
        {
            var expected = Functional.resize_bicubic_channels_last(vit.pos_embed.narrow(1, 1, 4).reshape(1, 2, 2, 12), 4, 4).reshape(1, 16, 12);
            Assert.Equal(expected.ToArray(), enc.pos_embed.narrow(1, 1, 16).ToArray());
            Assert.Equal(vit.pos_embed.narrow(1, 0, 1).ToArray(), enc.pos_embed.narrow(1, 0, 1).ToArray());
        }
        var bad = new Dictionary<string, Tensor>(vit.state_dict()) { ["fc_norm.weight"] = torch.ones([12]) };
        Assert.Throws<StateDictException>(() => PretrainedEncoder.load_timm(enc, bad));
    }
}
