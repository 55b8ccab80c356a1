using FsrNative.Model;
using Xunit;

namespace FsrNative.Tests.Fsr;

/// <summary>CAM utilities (fsr-spec §3.5, §4.1) and inference (§8.1): ranges, symmetries, thresholds, mask counts.</summary>
[Trait("Category", FsrCategory.Name)]
public sealed class ModelCamTests
{
    static readonly FsrModelConfig Tiny = ModelTestSupport.Tiny;

    [Fact]
    public void Multi_scale_CAMs_are_normalised_per_map_and_flip_equivariant()
    {
        using var net = new WsssNetwork(Tiny, generator: new Generator(30));
        using var scope = torch.NewDisposeScope();
        var x = ModelTestSupport.Images(2, 32, 32, 5);
        var (cam, aux) = MultiScaleCam.Compute(net, x);
        Assert.Equal([2, 3, 32, 32], cam.shape);
        Assert.Equal([2, 3, 32, 32], aux.shape);
        Assert.False(cam.requires_grad);
        var v = cam.ToArray();
        Assert.All(v, e => Assert.InRange(e, 0f, 1f));
        Assert.Contains(v, e => e == 0f);
        var (flipped, _) = MultiScaleCam.Compute(net, x.flip(3));
        ModelModuleTests.AssertClose(cam.flip(3).ToArray(), flipped.ToArray(), 1e-5f);   // same maps, other summation orders
        Assert.Throws<ArgumentException>(() => MultiScaleCam.Compute(net, x, [1.0, -0.5]));
    }

    [Fact]
    public void Block_mask_masks_the_rounded_up_count_uncertain_blocks_first()
    {
        using var scope = torch.NewDisposeScope();
        var gen = new BlockMaskGenerator(inputSize: 64, patchSize: 8, blockSize: 16, maskRatio: 0.3);   // 4×4 blocks, ⌈4.8⌉ = 5
        Assert.Equal((16, 5, 2), (gen.num_blocks, gen.num_masked, gen.tokens_per_block_side));
        // Class 0 present; uncertain (0.5) exactly on the blocks of grid row 1 (pixels 16–31), certain elsewhere.
        var cam = torch.zeros([1, 1, 64, 64]);
        cam.narrow(2, 16, 16).fill_(0.5f);
        var y = torch.ones([1, 1]);
        var m = gen.Generate(1, cam, y, MaskStrategy.Uncertain, generator: new Generator(31));
        Assert.Equal([1, 8, 8], m.mask.shape);
        Assert.Equal(5 * 4, (int)m.mask.sum().item());
        Assert.Equal([0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0], m.uncertain_blocks!.ToIntArray());
        var tokens = m.mask.ToArray();
        for (int x = 0; x < 8; x++) Assert.Equal(1f, tokens[2 * 8 + x]);   // token rows 2–3 = block row 1, all masked
        // Random strategy: no uncertain map, same count; the noise is replayable.
        var r = gen.Generate(2, null, null, MaskStrategy.Random, generator: new Generator(32));
        Assert.Null(r.uncertain_map);
        Assert.Equal(2 * 5 * 4, (int)r.mask.sum().item());
        var replay = gen.Generate(2, null, null, MaskStrategy.Random, r.noise);
        Assert.Equal(r.mask.ToArray(), replay.mask.ToArray());
        Assert.Throws<ArgumentException>(() => gen.Generate(2, null, null, MaskStrategy.Random, torch.rand([2, 15])));
        Assert.Throws<ArgumentException>(() => gen.Generate(1, null, null, MaskStrategy.Uncertain));
        Assert.Throws<ArgumentException>(() => gen.Generate(1, null, null, MaskStrategy.None));
        Assert.Throws<ArgumentException>(() => new BlockMaskGenerator(60, 8, 16, 0.4));
    }

    [Fact]
    public void Inference_predicts_at_full_resolution_and_restores_the_mode()
    {
        using var net = new WsssNetwork(Tiny, generator: new Generator(33));
        using var scope = torch.NewDisposeScope();
        var p = SegmentationInference.Predict(net, ModelTestSupport.Images(1, 40, 56, 6));
        Assert.True(net.training);
        Assert.Equal(3, p.raw_seg_out.Count);
        Assert.Equal([2, 4, 5, 7], p.raw_seg_out[0].shape);
        Assert.Equal([2, 4, 6, 8], p.raw_seg_out[1].shape);   // ⌊1.25·40⌋ = 50 → 6, ⌊1.25·56⌋ = 70 → 8
        Assert.Equal([1, 4, 40, 56], p.seg_logits.shape);
        Assert.Equal([1, 40, 56], p.pred.shape);
        Assert.All(p.pred.ToIntArray(), v => Assert.InRange(v, 0, 3));
        Assert.Equal([1, 3, 40, 56], p.cam.shape);
        Assert.Throws<ArgumentException>(() => SegmentationInference.Predict(net, ModelTestSupport.Images(1, 40, 56), []));
    }
}
