using FsrNative.Model;
using Xunit;

namespace FsrNative.Tests.Fsr;

/// <summary>Shapes, keys, errors and invariants of the FSR modules (fsr-spec §3).</summary>
[Trait("Category", FsrCategory.Name)]
public sealed class ModelModuleTests
{
    static readonly FsrModelConfig Tiny = ModelTestSupport.Tiny;

    [Fact]
    public void CrossAttention_returns_one_row_and_ignores_keys_outside_the_keep_mask()
    {
        using var attn = new CrossAttention(12, 3, generator: new Generator(3));
        using var scope = torch.NewDisposeScope();
        var x = torch.randn([2, 5, 12], new Generator(4));
        Assert.Equal([2, 1, 12], attn.forward(x).shape);
        var keep = torch.tensor([1f, 1f, 0f, 1f, 1f, 1f, 1f, 1f], [2, 4]);
        var y = attn.forward(x, keep).ToArray();
        // Changing the masked key (image 0, token 2 = row 3) changes nothing.
        var x2 = x.clone();
        x2.narrow(0, 0, 1).narrow(1, 3, 1).fill_(7f);
        Assert.Equal(y, attn.forward(x2, keep).ToArray());
        Assert.NotEqual(y, attn.forward(x2).ToArray());
        Assert.Contains("keep mask", Assert.Throws<ArgumentException>(() => attn.forward(x, torch.ones([2, 5]))).Message);
        Assert.Throws<ArgumentException>(() => attn.forward(torch.randn([2, 1, 12])));
        Assert.Equal(["q.weight", "q.bias", "k.weight", "k.bias", "v.weight", "v.bias", "proj.weight", "proj.bias"], attn.state_dict().Keys);
    }

    [Fact]
    public void AggregationBlock_refines_the_query_and_checks_shapes()
    {
        using var blk = new AggregationBlock(12, 3, generator: new Generator(5));
        using var scope = torch.NewDisposeScope();
        var q = torch.randn([2, 1, 12], new Generator(6));
        var p = torch.randn([2, 7, 12], new Generator(7));
        Assert.Equal([2, 1, 12], blk.forward(q, p).shape);
        Assert.Throws<ArgumentException>(() => blk.forward(q, torch.randn([3, 7, 12])));
        Assert.Throws<ArgumentException>(() => blk.forward(p, p));
    }

    [Fact]
    public void Encoder_replaces_masked_embeddings_by_the_mask_token_before_the_position_embedding()
    {
        using var enc = new FsrEncoder(Tiny, generator: new Generator(8));
        using var scope = torch.NewDisposeScope();
        var x = ModelTestSupport.Images(2, 32, 32);
        var mask = torch.zeros([2, 4, 4]);
        mask.narrow(0, 1, 1).narrow(1, 0, 1).fill_(1f);   // image 1, grid row 0
        var o = enc.forward(x, mask);
        Assert.Equal([2, 16, 12], o.tokens_in.shape);
        Assert.Equal([2, 17, 12], o.out_.shape);
        Assert.Equal(Tiny.Depth, o.blocks.Count);
        Assert.Same(o.blocks[Tiny.AuxBlockIndex], o.aux);
        Assert.Equal(Tiny.ClsDepth, o.cls_after_cablock.Count);
        var pos = enc.PosEmbedFor(4, 4);
        var expected = enc.mask_token.reshape(1, 1, 12).add(pos.narrow(1, 0, 4)).ToArray();
        Assert.Equal(expected, o.tokens_in.narrow(0, 1, 1).narrow(1, 0, 4).ToArray());
        var unmasked = o.patch_embed.narrow(0, 0, 1).add(pos).ToArray();
        Assert.Equal(unmasked, o.tokens_in.narrow(0, 0, 1).ToArray());
        Assert.Contains("mask", Assert.Throws<ArgumentException>(() => enc.forward(x, torch.zeros([2, 3, 4]))).Message);
        Assert.Throws<ArgumentException>(() => enc.forward(torch.randn([1, 2, 32, 32])));
        Assert.Throws<ArgumentException>(() => enc.forward(torch.randn([1, 3, 7, 32])));
    }

    [Fact]
    public void Encoder_patch_token_path_equals_the_full_forward_and_follows_non_square_grids()
    {
        using var enc = new FsrEncoder(Tiny, generator: new Generator(9));
        using var scope = torch.NewDisposeScope();
        var x = ModelTestSupport.Images(1, 40, 56);     // 5×7 grid, position table resized bicubically
        var full = enc.forward(x);
        var (patches, aux, grid) = enc.forward_patch_tokens(x);
        Assert.Equal((5, 7), grid);
        Assert.Equal([1, 35, 12], enc.PosEmbedFor(5, 7).shape);
        AssertClose(full.out_.narrow(1, 1, 35).ToArray(), patches.ToArray(), 1e-5f);
        AssertClose(full.aux.ToArray(), aux.ToArray(), 0f);
    }

    [Fact]
    public void Masked_aggregation_ignores_masked_tokens_and_unmasked_does_not()
    {
        using var scope = torch.NewDisposeScope();
        var x = ModelTestSupport.Images(1, 32, 32);
        var mask = torch.zeros([1, 4, 4]);
        mask.narrow(1, 0, 2).fill_(1f);
        using var masked = new FsrEncoder(Tiny with { AggregationAttention = AggregationAttention.Masked }, generator: new Generator(10));
        using var plain = new FsrEncoder(Tiny, generator: new Generator(10));
        var a = masked.forward(x, mask).cls_after_cablock[^1].ToArray();
        var b = plain.forward(x, mask).cls_after_cablock[^1].ToArray();
        Assert.NotEqual(a, b);
        Assert.Equal(a.Length, b.Length);
    }

    [Theory]
    [InlineData(ClassTokenPooling.Gap)]
    [InlineData(ClassTokenPooling.Gmp)]
    public void Pooled_class_tokens_need_no_aggregation_blocks(ClassTokenPooling pooling)
    {
        using var enc = new FsrEncoder(Tiny with { ClassTokenPooling = pooling, ClsDepth = 0 }, generator: new Generator(11));
        using var scope = torch.NewDisposeScope();
        var o = enc.forward(ModelTestSupport.Images(2, 32, 32));
        Assert.Empty(o.cls_after_cablock);
        Assert.DoesNotContain(enc.state_dict().Keys, k => k.StartsWith("cls_blocks", StringComparison.Ordinal));
        var last = o.blocks[^1];
        var pooled = pooling == ClassTokenPooling.Gap ? last.mean(1, keepdim: true) : last.amax([1], keepdim: true);
        var expected = enc.norm.forward(pooled).ToArray();
        AssertClose(expected, o.out_.narrow(1, 0, 1).ToArray(), 1e-6f);
    }

    [Fact]
    public void LargeFov_keeps_the_grid_and_outputs_every_class()
    {
        using var dec = new LargeFov(12, 4, 6, generator: new Generator(12));
        using var scope = torch.NewDisposeScope();
        Assert.Equal([2, 4, 5, 7], dec.forward(torch.randn([2, 12, 5, 7], new Generator(13))).shape);
        Assert.Equal(["conv6.weight", "conv7.weight", "conv8.weight"], dec.state_dict().Keys);
        Assert.Throws<ArgumentException>(() => dec.forward(torch.randn([2, 11, 5, 7])));
    }

    [Fact]
    public void DinoHead_has_a_frozen_unit_gain_and_normalised_rows()
    {
        using var head = new DinoHead(12, 20, 16, 8, generator: new Generator(14));
        using var scope = torch.NewDisposeScope();
        Assert.Equal([2, 5, 20], head.forward(torch.randn([2, 5, 12], new Generator(15))).shape);
        Assert.Equal(["mlp.0.weight", "mlp.0.bias", "mlp.2.weight", "mlp.2.bias", "mlp.4.weight", "mlp.4.bias", "last_layer.weight_g", "last_layer.weight_v"],
            head.state_dict().Keys);
        Assert.False(head.last_layer.weight_g.requires_grad);
        Assert.All(head.last_layer.weight_g.ToArray(), g => Assert.Equal(1f, g));
        // Every row of the effective weight is a unit vector, so |logit| ≤ 1 for the normalised bottleneck.
        Assert.All(head.forward(torch.randn([3, 12], new Generator(16))).ToArray(), v => Assert.InRange(MathF.Abs(v), 0f, 1.0001f));
    }

    internal static void AssertClose(float[] expected, float[] actual, float tol)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= tol, $"index {i}: expected {expected[i]}, got {actual[i]}");
    }
}
