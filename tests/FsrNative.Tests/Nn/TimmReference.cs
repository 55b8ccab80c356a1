namespace FsrNative.Tests.Nn;

using TT = TorchSharp.torch.Tensor;
using ts = TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using W = System.Collections.Generic.IReadOnlyDictionary<string, TorchSharp.torch.Tensor>;

/// <summary>
/// timm's ViT written out in TorchSharp ops, reading its weights from a dictionary with timm's key names: the
/// libtorch twin of our Attention, Block, PatchEmbed and VisionTransformer (and of a ViT loaded from a timm file).
/// Follows timm's forward line by line (qkv reshape/permute, q·scale, softmax, heads transposed back, proj;
/// pre-norm residual blocks; conv patch embedding; class token then position embedding, resized with
/// F.interpolate(bicubic, align_corners=False) when the grid differs).
/// </summary>
public static class TimmReference
{
    static string K(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    static TT? Opt(W w, string key) => w.TryGetValue(key, out var t) ? t : null;

    public static TT Linear(W w, string prefix, TT x) => F.linear(x, w[K(prefix, "weight")], Opt(w, K(prefix, "bias")));

    public static TT LayerNorm(W w, string prefix, TT x, double eps)
        => F.layer_norm(x, [x.shape[^1]], Opt(w, K(prefix, "weight")), Opt(w, K(prefix, "bias")), eps);

    public static TT Attention(W w, string prefix, TT x, int heads)
    {
        long b = x.shape[0], n = x.shape[1], c = x.shape[2], hd = c / heads;
        var qkv = Linear(w, K(prefix, "qkv"), x).reshape(b, n, 3, heads, hd).permute(2, 0, 3, 1, 4);
        var q = qkv[0] * Math.Pow(hd, -0.5);
        var attn = q.matmul(qkv[1].transpose(-2, -1)).softmax(-1);
        var y = attn.matmul(qkv[2]).transpose(1, 2).reshape(b, n, c);
        return Linear(w, K(prefix, "proj"), y);
    }

    public static TT Mlp(W w, string prefix, TT x) => Linear(w, K(prefix, "fc2"), F.gelu(Linear(w, K(prefix, "fc1"), x)));

    public static TT Block(W w, string prefix, TT x, int heads, double eps = 1e-6)
    {
        x = x + Attention(w, K(prefix, "attn"), LayerNorm(w, K(prefix, "norm1"), x, eps), heads);
        return x + Mlp(w, K(prefix, "mlp"), LayerNorm(w, K(prefix, "norm2"), x, eps));
    }

    public static TT PatchEmbed(W w, string prefix, TT images, int patch)
        => F.conv2d(images, w[K(prefix, "proj.weight")], Opt(w, K(prefix, "proj.bias")), strides: [patch, patch]).flatten(2).transpose(1, 2);

    /// <summary>The (1, gh·gw, D) patch part of a (1, prefix + g0h·g0w, D) embedding resized to gh×gw.</summary>
    public static TT ResizePosEmbed(TT pos, int prefix, (int h, int w) from, (int h, int w) to, bool antialias = false)
    {
        long d = pos.shape[2];
        var grid = pos.narrow(1, prefix, pos.shape[1] - prefix);
        if (from == to) return grid;
        var nchw = grid.reshape(1, from.h, from.w, d).permute(0, 3, 1, 2);
        var resized = F.interpolate(nchw, [to.h, to.w], mode: ts.InterpolationMode.Bicubic, align_corners: false, antialias: antialias);
        return resized.permute(0, 2, 3, 1).reshape(1, (long)to.h * to.w, d);
    }

    /// <summary>timm VisionTransformer.forward (token pooling, head if present) for a ViT whose position embedding
    /// was made for <paramref name="posGrid"/>.</summary>
    public static TT Vit(W w, TT images, int patch, int depth, int heads, (int h, int w) posGrid, bool antialias = false, bool head = true, double eps = 1e-6)
    {
        long b = images.shape[0];
        var grid = ((int)(images.shape[2] / patch), (int)(images.shape[3] / patch));
        var x = PatchEmbed(w, "patch_embed", images, patch);
        var cls = w["cls_token"];
        x = ts.cat([cls.expand(b, -1, -1), x], 1);
        var pos = w["pos_embed"];
        var posAll = ts.cat([pos.narrow(1, 0, 1), ResizePosEmbed(pos, 1, posGrid, grid, antialias)], 1);
        x = x + posAll;
        for (int i = 0; i < depth; i++) x = Block(w, $"blocks.{i}", x, heads, eps);
        x = LayerNorm(w, "norm", x, eps);
        var pooled = x.select(1, 0);
        return head && w.ContainsKey("head.weight") ? Linear(w, "head", pooled) : pooled;
    }
}
