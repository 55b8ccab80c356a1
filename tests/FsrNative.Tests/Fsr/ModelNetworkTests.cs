using FsrNative.Model;
using Xunit;

namespace FsrNative.Tests.Fsr;

/// <summary>The whole network: output shapes for two views, gradients, parameter groups, the teacher.</summary>
[Trait("Category", FsrCategory.Name)]
public sealed class ModelNetworkTests
{
    static readonly FsrModelConfig Tiny = ModelTestSupport.Tiny;

    [Fact]
    public void Two_view_forward_gives_heads_for_view_1_and_projections_for_every_token()
    {
        using var net = new WsssNetwork(Tiny, generator: new Generator(20));
        using var scope = torch.NewDisposeScope();
        var v1 = ModelTestSupport.Images(2, 32, 32, 1);
        var v2 = ModelTestSupport.Images(2, 32, 32, 2);
        var mask2 = torch.ones([2, 4, 4]);
        var o = net.forward(v1, v2, mask2);
        Assert.Equal([2, 3], o.top_cls_out.shape);
        Assert.Equal([2, 3], o.aux_cls_out.shape);
        Assert.Equal([4, 17, 20], o.project_out.shape);
        Assert.Equal([2, 4, 4, 4], o.seg_out.shape);
        Assert.Equal([2, 3, 4, 4], o.top_cam.shape);
        Assert.Equal([2, 3, 4, 4], o.aux_cam.shape);
        Assert.Equal([2, 12, 4, 4], o.top_fmap.shape);
        Assert.Equal([2, 12, 4, 4], o.aux_fmap.shape);
        Assert.False(o.top_cam.requires_grad);
        Assert.True(o.top_cls_out.requires_grad);
        Assert.All(o.top_cam.ToArray(), v => Assert.True(v >= 0));
        // View 1 is never masked: its heads equal a single-view forward of view 1.
        var single = net.forward(v1);
        ModelModuleTests.AssertClose(single.top_cls_out.ToArray(), o.top_cls_out.ToArray(), 1e-5f);
        Assert.Throws<ArgumentException>(() => net.forward(ModelTestSupport.Images(3, 32, 32), twoViews: true));
        Assert.Throws<ArgumentException>(() => net.forward(v1, ModelTestSupport.Images(2, 32, 48), null));
    }

    [Fact]
    public void The_mask_token_learns_only_from_masked_tokens_and_the_frozen_gain_never()
    {
        using var net = new WsssNetwork(Tiny, generator: new Generator(21));
        using var scope = torch.NewDisposeScope();
        var v1 = ModelTestSupport.Images(1, 32, 32, 3);
        var v2 = ModelTestSupport.Images(1, 32, 32, 4);
        var mask2 = torch.zeros([1, 4, 4]);
        mask2.narrow(1, 1, 2).fill_(1f);
        net.forward(v1, v2, mask2).project_out.square().sum().backward();
        Assert.NotNull(net.encoder.mask_token.grad);
        Assert.Contains(net.encoder.mask_token.grad!.ToArray(), v => v != 0);
        Assert.Null(net.projector.last_layer.weight_g.grad);
        net.zero_grad();
        net.forward(v1, v2, null).top_cls_out.sum().backward();
        Assert.True(net.encoder.mask_token.grad is null || net.encoder.mask_token.grad.ToArray().All(v => v == 0));
    }

    [Fact]
    public void Param_groups_cover_every_parameter_once_in_the_reference_split()
    {
        using var net = new WsssNetwork(Tiny, generator: new Generator(22));
        var groups = net.get_param_groups();
        Assert.Equal(4, groups.Count);
        var names = groups.SelectMany(g => g.Select(p => p.name)).ToList();
        Assert.Equal(net.state_dict().Keys.Order(StringComparer.Ordinal), names.Order(StringComparer.Ordinal));
        Assert.Contains(groups[0], p => p.name == "encoder.mask_token");
        Assert.Contains(groups[0], p => p.name == "encoder.pos_embed");
        Assert.Contains(groups[1], p => p.name == "encoder.cls_blocks.0.attn.q.weight");
        Assert.Equal(["projector.mlp.0.bias", "projector.mlp.2.bias", "projector.mlp.4.bias"], groups[2].Select(p => p.name));
        Assert.Contains(groups[3], p => p.name == "projector.last_layer.weight_g");
        Assert.Contains(groups[3], p => p.name == "aux_classifier.weight");
    }

    [Fact]
    public void Teacher_is_an_equal_frozen_copy_and_EMA_moves_it_towards_the_student()
    {
        using var student = new WsssNetwork(Tiny, generator: new Generator(23));
        using var teacher = Teacher.Create(student);
        Assert.All(teacher.parameters(), p => Assert.False(p.requires_grad));
        Assert.Equal(student.state_dict()["decoder.conv6.weight"].ToArray(), teacher.state_dict()["decoder.conv6.weight"].ToArray());
        var before = teacher.encoder.cls_token.ToArray();
        using (torch.no_grad()) student.encoder.cls_token.add_(torch.ones([1, 1, 12]));
        Teacher.Update(teacher, student, 0.9);
        var after = teacher.encoder.cls_token.ToArray();
        for (int i = 0; i < after.Length; i++) Assert.Equal(before[i] + 0.1f, after[i], 1e-5f);
        Assert.Throws<ArgumentException>(() => Teacher.Update(teacher, student, 1.5));
    }

    [Fact]
    public void Synthetic_preset_builds_with_the_expected_layout()
    {
        using var net = new WsssNetwork(FsrModelConfig.Synthetic, generator: new Generator(24));
        var keys = net.state_dict().Keys.ToList();
        // 4 encoder tokens/tables + patch conv (2) + 6 blocks × 12 + 2 aggregation blocks × 16 + norm (2)
        // + decoder 3 + projector 8 + 2 classifiers.
        Assert.Equal(3 + 2 + 6 * 12 + 2 * 16 + 2 + 3 + 8 + 2, keys.Count);
        Assert.Equal([1, 65, 192], net.encoder.pos_embed.shape);
    }
}
