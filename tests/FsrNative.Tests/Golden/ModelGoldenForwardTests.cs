using FsrNative.Model;
using Xunit;

namespace FsrNative.Tests.Golden;

/// <summary>
/// The network's forward against the authors' code (golden README §4.2): the student on [view 1; view 2] with view 2
/// masked by the stored <c>mask.mask2</c> (every <c>S.enc.*</c> and <c>S.out.*</c>), the teacher on the unmasked views
/// (<c>T.*</c>), and the state-dict layout itself.
/// </summary>
[Trait("Category", "Golden")]
public sealed class ModelGoldenForwardTests
{
    [GoldenFact]
    public void State_dict_has_the_reference_keys_and_shapes()
    {
        var g = GoldenFile.Shared;
        using var net = new WsssNetwork(ModelGolden.Config(g));
        var ours = net.state_dict();
        var reference = g.File.Entries.Where(e => e.Name.StartsWith("init.student.", StringComparison.Ordinal))
            .ToDictionary(e => e.Name["init.student.".Length..], e => e.Shape);
        Assert.Equal(reference.Keys.Order(StringComparer.Ordinal), ours.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, shape) in reference)
            Assert.True(shape.SequenceEqual(ours[key].shape.Select(d => (long)d)), $"{key}: ours {Shape.Format(ours[key].shape)}, reference [{string.Join(", ", shape)}]");
        Assert.False(net.projector.last_layer.weight_g.requires_grad);
    }

    [GoldenFact]
    public void Student_forward_matches_S_enc_and_S_out()
    {
        var g = GoldenFile.Shared;
        using var net = ModelGolden.Network(g, "init.student.");
        using var scope = torch.NewDisposeScope();
        var o = net.forward(g.Tensor("input.view1"), g.Tensor("input.view2"), g.Tensor("step0.mask.mask2"));
        CheckEncoder(g, "step0.S.enc.", o.encoder, withClassSteps: true);
        CheckHeads(g, "step0.S.out.", o);
    }

    [GoldenFact]
    public void Teacher_forward_matches_T_enc_and_T_out()
    {
        var g = GoldenFile.Shared;
        using var net = ModelGolden.Network(g, "init.teacher.");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var o = net.forward(g.Tensor("input.view1"), g.Tensor("input.view2"), null);
        CheckEncoder(g, "step0.T.enc.", o.encoder, withClassSteps: false);
        CheckHeads(g, "step0.T.out.", o);
    }

    [GoldenFact]
    public void Teacher_is_a_frozen_copy_and_follows_by_EMA()
    {
        var g = GoldenFile.Shared;
        using var student = ModelGolden.Network(g, "init.student.");
        using var teacher = Teacher.Create(student);
        Assert.All(teacher.parameters(), p => Assert.False(p.requires_grad));
        foreach (var (name, p) in student.state_dict())
            Assert.Equal(p.ToArray(), teacher.state_dict()[name].ToArray());
        using (var scope = torch.NewDisposeScope())
            student.load_state_dict(g.WithPrefix("final.student."));
        Teacher.Update(teacher, student, 0.25);
        var tq = teacher.encoder.mask_token.ToArray();
        var init = g.Floats("init.student.encoder.mask_token");
        var fin = g.Floats("final.student.encoder.mask_token");
        for (int i = 0; i < tq.Length; i++) Assert.Equal(init[i] * 0.25f + fin[i] * 0.75f, tq[i], 1e-6f);
    }

    static void CheckEncoder(GoldenFile g, string prefix, EncoderOutput e, bool withClassSteps)
    {
        if (g.Contains(prefix + "patch_embed"))
        {
            var (h, w) = e.grid;
            var pe = e.patch_embed;
            ModelGolden.Close(g, prefix + "patch_embed", pe.transpose(1, 2).reshape(pe.size(0), pe.size(2), h, w));
        }
        if (g.Contains(prefix + "tokens_in")) ModelGolden.Close(g, prefix + "tokens_in", e.tokens_in);
        for (int i = 0; i < e.blocks.Count; i++) ModelGolden.Close(g, $"{prefix}block{i}", e.blocks[i]);
        Assert.False(g.Contains($"{prefix}block{e.blocks.Count}"), $"{prefix}block{e.blocks.Count} exists: the golden encoder is deeper");
        if (withClassSteps)
        {
            for (int j = 0; j < e.cls_after_cablock.Count; j++) ModelGolden.Close(g, $"{prefix}cls_after_cablock{j}", e.cls_after_cablock[j]);
            Assert.False(g.Contains($"{prefix}cls_after_cablock{e.cls_after_cablock.Count}"));
        }
        ModelGolden.Close(g, prefix + "out", e.out_);
        ModelGolden.Close(g, prefix + "aux", e.aux);
    }

    static void CheckHeads(GoldenFile g, string prefix, WsssOutput o)
    {
        ModelGolden.Close(g, prefix + "top_cls_out", o.top_cls_out);
        ModelGolden.Close(g, prefix + "aux_cls_out", o.aux_cls_out);
        ModelGolden.Close(g, prefix + "top_cam", o.top_cam);
        ModelGolden.Close(g, prefix + "aux_cam", o.aux_cam);
        ModelGolden.Close(g, prefix + "top_fmap", o.top_fmap);
        ModelGolden.Close(g, prefix + "aux_fmap", o.aux_fmap);
        ModelGolden.Close(g, prefix + "seg_out", o.seg_out);
        ModelGolden.Close(g, prefix + "project_out", o.project_out);
    }
}
