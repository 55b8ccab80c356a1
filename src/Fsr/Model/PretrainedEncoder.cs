using FsrNative.Nn;
using FsrNative.Weights;

namespace FsrNative.Model;

/// <summary>
/// Pretrained timm ViT weights into an <see cref="FsrEncoder"/> (fsr-spec §3.1 "Weights"; reference
/// <c>vit_base_patch16_224(pretrained=True)</c>): the classifier head (and timm's <c>pre_logits</c>) dropped, the
/// position embedding resized bicubically (align_corners off, no antialiasing) from its square grid to the encoder's
/// grid keeping the class slot, everything else by name. The class token becomes the aggregation query's initial
/// value. What the checkpoint cannot provide — <c>mask_token</c> and the aggregation blocks <c>cls_blocks.*</c> —
/// keeps its random init (the reference loads with strict=False); any other missing or unexpected key is an error.
/// </summary>
public static class PretrainedEncoder
{
    public static TimmLoadReport load_timm(FsrEncoder encoder, string path)
    {
        using var scope = torch.NewDisposeScope();
        using var file = SafetensorsFile.Open(path);
        return load_timm(encoder, file.LoadAll());
    }

    /// <summary>Loads from tensors in memory (timm key names); the caller keeps them.</summary>
    public static TimmLoadReport load_timm(FsrEncoder encoder, IReadOnlyDictionary<string, Tensor> checkpoint)
    {
        using var scope = torch.NewDisposeScope();
        var own = encoder.state_dict();
        var state = new Dictionary<string, Tensor>();
        var skipped = new List<string>();
        var unexpected = new List<string>();
        (int, int)? resizedFrom = null;
        foreach (var (key, value) in checkpoint)
        {
            if (key.StartsWith("head.", StringComparison.Ordinal) || key.StartsWith("pre_logits.", StringComparison.Ordinal)) { skipped.Add(key); continue; }
            if (!own.ContainsKey(key)) { unexpected.Add(key); continue; }
            if (key == "pos_embed" && !Shape.SameShape(value.shape, encoder.pos_embed.shape))
            {
                (state[key], var from) = ResizePosEmbed(value, encoder);
                resizedFrom = from;
                continue;
            }
            state[key] = value;
        }
        var missing = own.Keys.Where(k => !state.ContainsKey(k)).ToList();
        var notNew = missing.Where(k => k != "mask_token" && !k.StartsWith("cls_blocks.", StringComparison.Ordinal)).ToList();
        if (notNew.Count > 0 || unexpected.Count > 0)
            throw new StateDictException(nameof(FsrEncoder), notNew, unexpected, []);
        encoder.load_state_dict(state, strict: false);
        return new TimmLoadReport(state.Keys.ToList(), skipped, missing, resizedFrom);
    }

    /// <summary>(1, 1 + g·g, D) → (1, 1 + gh·gw, D) for the encoder's grid (the reference's <c>resize_pos_embed</c>).</summary>
    static (Tensor, (int, int)) ResizePosEmbed(Tensor pe, FsrEncoder encoder)
    {
        int d = encoder.embed_dim;
        int g = pe.dim() == 3 && pe.size(0) == 1 && pe.size(2) == d ? (int)Math.Round(Math.Sqrt(pe.size(1) - 1)) : -1;
        if (g <= 0 || g * g + 1 != pe.size(1))
            throw new StateDictException(nameof(FsrEncoder), [], [], [$"pos_embed: checkpoint {Shape.Format(pe.shape)} is not (1, 1 + g², {d}); the model needs {Shape.Format(encoder.pos_embed.shape)}"]);
        var (gh, gw) = encoder.pos_embed_grid;
        using var noGrad = torch.no_grad();
        var grid = pe.narrow(1, 1, g * g).reshape(1, g, g, d);
        var patches = Functional.resize_bicubic_channels_last(grid, gh, gw).reshape(1, gh * gw, d);
        return (torch.cat([pe.narrow(1, 0, 1), patches], 1), (g, g));
    }
}
