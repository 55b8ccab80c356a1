namespace FsrNative.Nn;

/// <summary>The hyper-parameters of a <see cref="VisionTransformer"/>, with timm's names and defaults.</summary>
public sealed record VitConfig
{
    public int ImgSize { get; init; } = 224;
    public int PatchSize { get; init; } = 16;
    public int InChans { get; init; } = 3;
    /// <summary>Classes of the head; 0 for no head (forward returns the pooled features).</summary>
    public int NumClasses { get; init; } = 1000;
    public int EmbedDim { get; init; } = 768;
    public int Depth { get; init; } = 12;
    public int NumHeads { get; init; } = 12;
    public float MlpRatio { get; init; } = 4f;
    public bool QkvBias { get; init; } = true;
    public bool ClassToken { get; init; } = true;
    /// <summary>"token" (class token), "avg" (mean of patch tokens) or "" (none: forward returns all tokens).</summary>
    public string GlobalPool { get; init; } = "token";
    public float? InitValues { get; init; }
    public float DropRate { get; init; }
    public float PosDropRate { get; init; }
    public float AttnDropRate { get; init; }
    public float ProjDropRate { get; init; }
    /// <summary>Stochastic depth rate of the last block; block i gets rate·i/(depth−1) (timm's linspace).</summary>
    public float DropPathRate { get; init; }
    public float NormEps { get; init; } = 1e-6f;
    /// <summary>Resize the position embedding with antialiasing (timm ≥ 0.9's default) instead of plain bicubic
    /// (F.interpolate's default, used by ToCo/FSR).</summary>
    public bool PosEmbedAntialias { get; init; }

    public static VitConfig Tiny16 => new() { EmbedDim = 192, Depth = 12, NumHeads = 3 };
    public static VitConfig Small16 => new() { EmbedDim = 384, Depth = 12, NumHeads = 6 };
    public static VitConfig Base16 => new() { EmbedDim = 768, Depth = 12, NumHeads = 12 };
}

/// <summary>
/// timm's VisionTransformer (<c>vit_base_patch16_224</c> family) with its state-dict layout: <c>cls_token</c>
/// (1, 1, D), <c>pos_embed</c> (1, 1 + N, D), <c>patch_embed.proj.*</c>, <c>blocks.N.*</c>, <c>norm.*</c>,
/// <c>head.*</c>. Inputs whose patch grid differs from the position embedding's get a bicubically resized embedding
/// on the fly (differentiable); <see cref="resize_pos_embed"/> resizes the parameter itself (14×14 → 28×28 at load).
/// </summary>
public sealed class VisionTransformer : Module<Tensor, Tensor>
{
    public VisionTransformer(VitConfig? config = null, Device? device = null, Generator? generator = null)
    {
        var c = config ?? new VitConfig();
        this.config = c;
        if (c.GlobalPool is not ("token" or "avg" or "")) throw new ArgumentException($"VisionTransformer: global_pool must be 'token', 'avg' or '', got '{c.GlobalPool}'");
        if (c.GlobalPool == "token" && !c.ClassToken) throw new ArgumentException("VisionTransformer: global_pool 'token' needs a class token");
        num_prefix_tokens = c.ClassToken ? 1 : 0;
        patch_embed = register_module("patch_embed", new PatchEmbed(c.ImgSize, c.PatchSize, c.InChans, c.EmbedDim, device: device, generator: generator));
        pos_embed_grid = patch_embed.grid_size;
        if (c.ClassToken) register_parameter("cls_token", torch.zeros([1, 1, c.EmbedDim], device));
        else register_parameter_none("cls_token");
        register_parameter("pos_embed", torch.zeros([1, num_prefix_tokens + patch_embed.num_patches, c.EmbedDim], device));
        pos_drop = register_module("pos_drop", new Dropout(c.PosDropRate, generator));
        blocks = register_module("blocks", new ModuleList<Block>());
        for (int i = 0; i < c.Depth; i++)
        {
            float dpr = c.Depth > 1 ? c.DropPathRate * i / (c.Depth - 1) : 0f;   // timm: linspace(0, rate, depth)
            blocks.append(new Block(c.EmbedDim, c.NumHeads, c.MlpRatio, c.QkvBias, c.ProjDropRate, c.AttnDropRate, c.InitValues, dpr, c.NormEps, device, generator));
        }
        norm = register_module("norm", new LayerNorm(c.EmbedDim, c.NormEps, device: device));
        head_drop = register_module("head_drop", new Dropout(c.DropRate, generator));
        head = c.NumClasses > 0 ? register_module("head", new Linear(c.EmbedDim, c.NumClasses, device: device, generator: generator)) : null;
        init_weights(generator);
    }

    public VitConfig config { get; }
    public readonly PatchEmbed patch_embed;
    public readonly Dropout pos_drop, head_drop;
    public readonly ModuleList<Block> blocks;
    public readonly LayerNorm norm;
    public readonly Linear? head;
    public int num_prefix_tokens { get; }
    public int embed_dim => config.EmbedDim;
    public Tensor? cls_token => OptionalParam("cls_token");
    public Tensor pos_embed => Param("pos_embed");
    /// <summary>The patch grid the position embedding parameter is laid out for.</summary>
    public (int h, int w) pos_embed_grid { get; private set; }

    /// <summary>timm's init ('' mode): pos_embed trunc_normal(0.02), cls_token normal(1e-6), every Linear
    /// trunc_normal(0.02) with zero bias; LayerNorms ones/zeros; the patch conv keeps PyTorch's default.</summary>
    public void init_weights(Generator? generator = null)
    {
        init.trunc_normal_(pos_embed, std: .02f, generator: generator);
        if (cls_token is Tensor cls) init.normal_(cls, std: 1e-6f, generator: generator);
        foreach (var m in modules())
            if (m is Linear lin)
            {
                init.trunc_normal_(lin.weight, std: .02f, generator: generator);
                if (lin.bias is Tensor b) init.zeros_(b);
            }
    }

    /// <summary>
    /// The position embedding for a <paramref name="gridH"/>×<paramref name="gridW"/> patch grid: (1, [prefix +]
    /// gridH·gridW, D), the patch part resized bicubically from <see cref="pos_embed_grid"/> when it differs
    /// (differentiable, so gradients reach the parameter).
    /// </summary>
    public Tensor PosEmbedFor(int gridH, int gridW, bool includePrefix = true)
    {
        var pe = pos_embed;
        int prefix = num_prefix_tokens;
        if ((gridH, gridW) == pos_embed_grid)
            return includePrefix || prefix == 0 ? pe : pe.narrow(1, prefix, pe.size(1) - prefix);
        var grid = pe.narrow(1, prefix, pe.size(1) - prefix).reshape(1, pos_embed_grid.h, pos_embed_grid.w, embed_dim);
        var resized = Functional.resize_bicubic_channels_last(grid, gridH, gridW, config.PosEmbedAntialias).reshape(1, gridH * gridW, embed_dim);
        if (!includePrefix || prefix == 0) return resized;
        return torch.cat([pe.narrow(1, 0, prefix), resized], 1);
    }

    /// <summary>Resizes the position-embedding parameter to a new grid (e.g. 14×14 pretrained → 28×28 for 448 px),
    /// bicubically, keeping the class-token slot.</summary>
    public void resize_pos_embed(int gridH, int gridW)
    {
        if ((gridH, gridW) == pos_embed_grid) return;
        Tensor resized;
        using (torch.no_grad())
            resized = PosEmbedFor(gridH, gridW).contiguous().clone();
        ReplaceParameter("pos_embed", resized);
        pos_embed_grid = (gridH, gridW);
    }

    /// <summary>Tokens before the blocks: patch embedding, class token, position embedding (resized to the input's
    /// grid if needed), position dropout. (B, prefix + N, D).</summary>
    public Tensor prepare_tokens(Tensor x)
    {
        var (gh, gw) = patch_embed.GridFor(x.size(2), x.size(3));
        var t = patch_embed.forward(x);
        if (cls_token is Tensor cls) t = torch.cat([cls.expand(t.size(0), 1, embed_dim), t], 1);
        t = t.add(PosEmbedFor(gh, gw));
        return pos_drop.forward(t);
    }

    /// <summary>All tokens after the final norm: (B, prefix + N, D).</summary>
    public Tensor forward_features(Tensor x)
    {
        var t = prepare_tokens(x);
        foreach (var blk in blocks) t = blk.forward(t);
        return norm.forward(t);
    }

    /// <summary>Pooling (class token or mean of patch tokens), head dropout and the head.</summary>
    public Tensor forward_head(Tensor tokens, bool preLogits = false)
    {
        var pooled = config.GlobalPool switch
        {
            "token" => tokens.select(1, 0),
            "avg" => tokens.narrow(1, num_prefix_tokens, tokens.size(1) - num_prefix_tokens).mean(1),
            _ => tokens,
        };
        pooled = head_drop.forward(pooled);
        return preLogits || head is null ? pooled : head.forward(pooled);
    }

    public override Tensor forward(Tensor x) => forward_head(forward_features(x));
}
