using FsrNative.Nn;

namespace FsrNative.Weights;

/// <summary>What <see cref="TimmVit.load(VisionTransformer, string, bool)"/> did.</summary>
public sealed record TimmLoadReport(
    IReadOnlyList<string> Loaded,
    IReadOnlyList<string> Skipped,
    IReadOnlyList<string> Missing,
    (int h, int w)? PosEmbedResizedFrom)
{
    public override string ToString()
        => $"loaded {Loaded.Count} tensors" +
           (Skipped.Count > 0 ? $", skipped {string.Join(", ", Skipped)}" : "") +
           (Missing.Count > 0 ? $", missing {string.Join(", ", Missing)}" : "") +
           (PosEmbedResizedFrom is { } g ? $", position embedding resized from {g.h}×{g.w}" : "");
}

/// <summary>
/// Import of timm ViT weights (the <c>vit_base_patch16_224</c> family as users download them, model.safetensors)
/// into a <see cref="VisionTransformer"/>: the key layout is timm's own, so keys map one to one; F16/BF16 files are
/// widened to float32; a position embedding made for another grid (14×14 at 224 px) is resized bicubically to the
/// model's grid (28×28 at 448 px for FSR) keeping the class-token slot; a classifier head that the model does not
/// have (or of another class count) and timm's <c>pre_logits</c> layer are skipped. Anything else that does not
/// fit is an error (<see cref="StateDictException"/> listing every key), unless <c>strict</c> is off.
/// </summary>
public static class TimmVit
{
    public static TimmLoadReport load(VisionTransformer model, string path, bool strict = true)
    {
        using var scope = torch.NewDisposeScope();
        using var file = SafetensorsFile.Open(path);
        return load(model, file.LoadAll(), strict);
    }

    /// <summary>Loads from tensors already in memory (timm key names); the caller keeps them.</summary>
    public static TimmLoadReport load(VisionTransformer model, IReadOnlyDictionary<string, Tensor> checkpoint, bool strict = true)
    {
        using var scope = torch.NewDisposeScope();
        var own = model.state_dict();
        var state = new Dictionary<string, Tensor>();
        var skipped = new List<string>();
        (int, int)? resizedFrom = null;
        foreach (var (key, value) in checkpoint)
        {
            bool headMismatch = key.StartsWith("head.", StringComparison.Ordinal)
                && (!own.TryGetValue(key, out var target) || !Shape.SameShape(target.shape, value.shape));
            if (headMismatch || key.StartsWith("pre_logits.", StringComparison.Ordinal) || (key == "cls_token" && !own.ContainsKey(key)))
            {
                skipped.Add(key);
                continue;
            }
            if (key == "pos_embed" && own.TryGetValue(key, out var pe) && !Shape.SameShape(pe.shape, value.shape))
            {
                var (resized, from) = ResizePosEmbed(value, model);
                state[key] = resized;
                resizedFrom = from;
                continue;
            }
            state[key] = value;
        }
        var (missing, _) = model.load_state_dict(state, strict);
        return new TimmLoadReport(state.Keys.Where(own.ContainsKey).ToList(), skipped, missing, resizedFrom);
    }

    /// <summary>A checkpoint's (1, prefix + g·g, D) position embedding resized to the model's grid and prefix.</summary>
    static (Tensor, (int, int)) ResizePosEmbed(Tensor pe, VisionTransformer model)
    {
        if (pe.dim() != 3 || pe.size(0) != 1 || pe.size(2) != model.embed_dim)
            throw new StateDictException(nameof(VisionTransformer), [], [], [$"pos_embed: checkpoint {Shape.Format(pe.shape)} cannot be resized to {Shape.Format(model.pos_embed.shape)}"]);
        int tokens = pe.size(1);
        // Old checkpoints always carry one class-token slot when the token count is a square plus one.
        int prefix = IsSquare(tokens) ? 0 : IsSquare(tokens - 1) ? 1 : -1;
        if (prefix < 0)
            throw new StateDictException(nameof(VisionTransformer), [], [], [$"pos_embed: {tokens} tokens are neither a square grid nor a square grid plus a class token"]);
        int g = (int)Math.Round(Math.Sqrt(tokens - prefix));
        var (gh, gw) = model.pos_embed_grid;
        Tensor resized;
        using (torch.no_grad())
        {
            var grid = pe.narrow(1, prefix, g * g).reshape(1, g, g, model.embed_dim);
            var patches = Functional.resize_bicubic_channels_last(grid, gh, gw, model.config.PosEmbedAntialias).reshape(1, gh * gw, model.embed_dim);
            int want = model.num_prefix_tokens;
            if (want > prefix)
                throw new StateDictException(nameof(VisionTransformer), [], [], ["pos_embed: the model has a class token but the checkpoint's position embedding has no slot for it"]);
            resized = want == 0 ? patches.contiguous() : torch.cat([pe.narrow(1, 0, want), patches], 1);
        }
        return (resized, (g, g));
    }

    static bool IsSquare(int n)
    {
        if (n <= 0) return false;
        int r = (int)Math.Round(Math.Sqrt(n));
        return r * r == n;
    }
}
