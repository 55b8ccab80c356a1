using FsrNative.Nn;

namespace FsrNative.Model;

/// <summary>
/// The FSR encoder (the reference's modified timm <c>VisionTransformer</c>, fsr-spec §3.1): a ViT over patch tokens
/// only — no class token in self-attention — with a learned <c>mask_token</c> that replaces masked patch embeddings
/// before the position embedding is added, aux features from block <see cref="FsrModelConfig.AuxBlockIndex"/>, the
/// cross-attention aggregation blocks that refine a learned query (initialised from <c>cls_token</c>) over the final
/// patch tokens, and one final LayerNorm over [class token; patch tokens].
/// <para>State-dict keys as the reference: <c>cls_token</c> (1, 1, D), <c>pos_embed</c> (1, 1 + T₀, D) — slot 0 is
/// loaded but never used —, <c>mask_token</c> (1, D), <c>patch_embed.proj.*</c>, <c>blocks.N.*</c> (timm's
/// <see cref="Block"/>), <c>cls_blocks.N.*</c> (<see cref="AggregationBlock"/>), <c>norm.*</c>.</para>
/// </summary>
public sealed class FsrEncoder : Module
{
    public FsrEncoder(FsrModelConfig config, Device? device = null, Generator? generator = null)
    {
        config.Validate();
        this.config = config;
        int d = config.EmbedDim;
        patch_embed = register_module("patch_embed", new PatchEmbed(config.ImageSize, config.PatchSize, config.InChans, d, device: device, generator: generator));
        register_parameter("cls_token", torch.zeros([1, 1, d], device));
        register_parameter("pos_embed", torch.zeros([1, 1 + patch_embed.num_patches, d], device));
        register_parameter("mask_token", torch.zeros([1, d], device));
        blocks = register_module("blocks", new ModuleList<Block>());
        for (int i = 0; i < config.Depth; i++)
        {
            // torch.linspace(0, drop_path_rate, depth), as the reference.
            float dpr = config.Depth > 1 ? config.DropPathRate * i / (config.Depth - 1) : 0f;
            blocks.append(new Block(d, config.NumHeads, config.MlpRatio, config.QkvBias, dropPath: dpr, normEps: config.NormEps, device: device, generator: generator));
        }
        cls_blocks = register_module("cls_blocks", new ModuleList<AggregationBlock>());
        for (int i = 0; i < config.ClsDepth; i++)
            cls_blocks.append(new AggregationBlock(d, config.NumHeads, config.MlpRatio, config.QkvBias, config.NormEps, device, generator));
        norm = register_module("norm", new LayerNorm(d, config.NormEps, device: device));
        init_weights(generator);
    }

    public FsrModelConfig config { get; }
    public readonly PatchEmbed patch_embed;
    public readonly ModuleList<Block> blocks;
    public readonly ModuleList<AggregationBlock> cls_blocks;
    public readonly LayerNorm norm;
    /// <summary>The aggregation query's initial value (the pretrained ViT's class token).</summary>
    public Tensor cls_token => Param("cls_token");
    public Tensor pos_embed => Param("pos_embed");
    public Tensor mask_token => Param("mask_token");
    public int embed_dim => config.EmbedDim;
    public int patch_size => config.PatchSize;
    /// <summary>The grid the position embedding is laid out for (ImageSize/PatchSize square).</summary>
    public (int h, int w) pos_embed_grid => patch_embed.grid_size;

    /// <summary>The reference's init: trunc_normal(0.02) for pos_embed, cls_token, mask_token and every Linear
    /// (zero biases), LayerNorms ones/zeros; the patch convolution keeps PyTorch's default.</summary>
    public void init_weights(Generator? generator = null)
    {
        init.trunc_normal_(pos_embed, std: .02f, generator: generator);
        init.trunc_normal_(cls_token, std: .02f, generator: generator);
        init.trunc_normal_(mask_token, std: .02f, generator: generator);
        foreach (var m in modules())
            if (m is Linear lin)
            {
                init.trunc_normal_(lin.weight, std: .02f, generator: generator);
                if (lin.bias is Tensor b) init.zeros_(b);
            }
    }

    /// <summary>
    /// The patch part of the position embedding for a <paramref name="gridH"/>×<paramref name="gridW"/> grid, (1, gh·gw, D):
    /// the table itself on the training grid, else resized bicubically (align_corners off) on the fly — the
    /// reference's <c>interpolate_pos_embed</c> (fsr-spec §3.1; non-square grids at inference). Differentiable.
    /// </summary>
    public Tensor PosEmbedFor(int gridH, int gridW)
    {
        var (h0, w0) = pos_embed_grid;
        var patches = pos_embed.narrow(1, 1, h0 * w0);
        if ((gridH, gridW) == (h0, w0)) return patches;
        var grid = patches.reshape(1, h0, w0, embed_dim);
        return Functional.resize_bicubic_channels_last(grid, gridH, gridW).reshape(1, gridH * gridW, embed_dim);
    }

    /// <summary>
    /// Embeds (N, C, H, W) images: patch tokens (N, T, D), masked ones replaced by <c>mask_token</c>, plus the position
    /// embedding. <paramref name="mask"/> null or (N, gh, gw), non-zero = masked (Float32 or Int32).
    /// </summary>
    (Tensor patchEmbed, Tensor tokensIn, (int h, int w) grid) Embed(Tensor x, Tensor? mask)
    {
        if (x.dim() != 4 || x.size(1) != config.InChans)
            throw new ArgumentException($"FsrEncoder: expected ({config.InChans}-channel) images (N, {config.InChans}, H, W), got {Shape.Format(x.shape)}");
        var grid = patch_embed.GridFor(x.size(2), x.size(3));
        if (grid.h == 0 || grid.w == 0)
            throw new ArgumentException($"FsrEncoder: image {x.size(2)}×{x.size(3)} is smaller than one {patch_size}-px patch");
        int n = x.size(0), t = grid.h * grid.w;
        var pe = patch_embed.forward(x);
        var tokens = pe;
        if (mask is not null)
        {
            if (mask.dim() != 3 || mask.size(0) != n || mask.size(1) != grid.h || mask.size(2) != grid.w)
                throw new ArgumentException($"FsrEncoder: mask {Shape.Format(mask.shape)} must be (N, gh, gw) = ({n}, {grid.h}, {grid.w})");
            // fsr-spec §3.1: the mask token overwrites the patch embedding BEFORE the position embedding is added.
            var m = (mask.DType == DType.Float32 ? mask : mask.to(DType.Float32)).reshape(n, t, 1);
            tokens = torch.where(m, mask_token, pe);
        }
        return (pe, tokens.add(PosEmbedFor(grid.h, grid.w)), grid);
    }

    /// <summary>
    /// The full encoder (fsr-spec §3.1) on (N, C, H, W) images with an optional token mask (N, gh, gw) (non-zero =
    /// replace by the mask token). With <see cref="AggregationAttention.Masked"/> the aggregation blocks also ignore
    /// masked keys.
    /// </summary>
    public EncoderOutput forward(Tensor x, Tensor? mask = null)
    {
        var (pe, tokensIn, grid) = Embed(x, mask);
        var t = tokensIn;
        var outs = new List<Tensor>(blocks.Count);
        // Without a graph (the teacher's pass) a block's intermediates (qkv, attention, MLP hidden) are dead once it is
        // done: each block runs in its own dispose scope and only its output survives, as in forward_patch_tokens.
        bool free = !torch.is_grad_enabled();
        foreach (var blk in blocks)
        {
            if (free)
            {
                using var scope = torch.NewDisposeScope();
                t = blk.forward(t).MoveToOuterDisposeScope();
            }
            else t = blk.forward(t);
            outs.Add(t);
        }
        var (cls, clsSteps) = ClassToken(t, mask);
        return new EncoderOutput
        {
            patch_embed = pe, tokens_in = tokensIn, blocks = outs, cls_after_cablock = clsSteps,
            out_ = norm.forward(torch.cat([cls, t], 1)), aux = outs[config.AuxBlockIndex], grid = grid,
        };
    }

    /// <summary>
    /// What CAMs need and nothing more (the reference's <c>cam_only</c> path): final-normalised patch tokens (N, T, D)
    /// and aux features (N, T, D), no mask. The final LayerNorm acts per token, so the patch rows equal those of
    /// <see cref="forward"/>; the class-token aggregation is skipped.
    /// </summary>
    public (Tensor patches, Tensor aux, (int h, int w) grid) forward_patch_tokens(Tensor x)
    {
        var (_, t, grid) = Embed(x, null);
        Tensor? aux = null;
        // Without a graph nothing reads a block's intermediates (qkv, attention, MLP hidden) once it is done: each block
        // runs in its own dispose scope, so the multi-scale CAM holds one block's activations at a time, not all of them.
        bool free = !torch.is_grad_enabled();
        for (int i = 0; i < blocks.Count; i++)
        {
            var input = t;
            if (free)
            {
                using var scope = torch.NewDisposeScope();
                t = blocks[i].forward(input).MoveToOuterDisposeScope();
                if (i > 0 && i - 1 != config.AuxBlockIndex) input.Dispose();   // the previous block's output (not the embedding, not aux)
            }
            else t = blocks[i].forward(input);
            if (i == config.AuxBlockIndex) aux = t;
        }
        return (norm.forward(t), aux!, grid);
    }

    /// <summary>The class token (N, 1, D) per <see cref="FsrModelConfig.ClassTokenPooling"/> and its value after each
    /// aggregation block.</summary>
    (Tensor cls, IReadOnlyList<Tensor> steps) ClassToken(Tensor patches, Tensor? mask)
    {
        int n = patches.size(0);
        switch (config.ClassTokenPooling)
        {
            case ClassTokenPooling.Gap: return (patches.mean(1, keepdim: true), []);
            case ClassTokenPooling.Gmp: return (patches.amax([1], keepdim: true), []);
        }
        Tensor? keep = null;
        if (config.AggregationAttention == AggregationAttention.Masked && mask is not null)
        {
            var m = mask.DType == DType.Float32 ? mask : mask.to(DType.Float32);
            keep = m.reshape(n, -1).rsub(1f);        // 1 = unmasked (confident) token: may be attended
        }
        var cls = cls_token.expand(n, 1, embed_dim);
        var steps = new List<Tensor>(cls_blocks.Count);
        foreach (var blk in cls_blocks)
        {
            cls = blk.forward(cls, patches, keep);
            steps.Add(cls);
        }
        return (cls, steps);
    }
}
