using System.Globalization;

namespace FsrNative.Model;

/// <summary>
/// Keys and values the aggregation blocks attend to (fsr-spec §3.1, §10 item 2).
/// </summary>
public enum AggregationAttention
{
    /// <summary>The authors' final code: the class-token query attends to every patch token, masked positions (holding
    /// the mask token) included.</summary>
    Unmasked,
    /// <summary>The paper's text: keys/values restricted to the unmasked (confident) tokens, through the engine's
    /// <c>scaled_dot_product_attention</c> keep_mask. A view without a mask attends to every token.</summary>
    Masked,
}

/// <summary>
/// How the class token that feeds cer.FSR is formed (fsr-spec §11, Table 4's ablation "cer.FSR only with GAP / GMP /
/// MCA").
/// </summary>
public enum ClassTokenPooling
{
    /// <summary>Masked cross-attention: a learned query refined by <see cref="FsrModelConfig.ClsDepth"/> aggregation
    /// blocks (the method and the code's default).</summary>
    Mca,
    /// <summary>Global average pooling of the final patch tokens (no aggregation blocks, ClsDepth must be 0).</summary>
    Gap,
    /// <summary>Global max pooling of the final patch tokens (no aggregation blocks, ClsDepth must be 0).</summary>
    Gmp,
}

/// <summary>
/// The hyper-parameters of the FSR network (<see cref="WsssNetwork"/>, fsr-spec §3, §9) and of its block mask
/// (§4.1). Names follow the reference's argument names; training builds it from the resolved settings
/// (<c>FsrModelSettings.Model</c>), and so do the golden tests from a golden file's <c>config</c> metadata.
/// </summary>
public sealed record FsrModelConfig
{
    /// <summary>Side of the square training views in pixels (the position embedding's grid is ImageSize/PatchSize).</summary>
    public int ImageSize { get; init; } = 448;
    public int PatchSize { get; init; } = 16;
    public int InChans { get; init; } = 3;
    public int EmbedDim { get; init; } = 768;
    /// <summary>Patch-token transformer blocks.</summary>
    public int Depth { get; init; } = 12;
    public int NumHeads { get; init; } = 12;
    public float MlpRatio { get; init; } = 4f;
    /// <summary>Cross-attention aggregation blocks (the reference's <c>cls_depth</c>).</summary>
    public int ClsDepth { get; init; } = 2;
    /// <summary>Which block's output feeds the aux classifier, Python-style (−3 = third from last, block 9 of 12).</summary>
    public int AuxLayer { get; init; } = -3;
    /// <summary>Classes including background (VOC 21): classifiers have NumClasses − 1 outputs, the decoder NumClasses.</summary>
    public int NumClasses { get; init; } = 21;
    public int ProjHidden { get; init; } = 2048;
    public int ProjBottleneck { get; init; } = 256;
    /// <summary>DINO projector output dimension (the reference's <c>out_dim</c>).</summary>
    public int OutDim { get; init; } = 4096;
    /// <summary>LargeFOV decoder width (512 in DeepLab-LargeFOV).</summary>
    public int DecoderChannels { get; init; } = 512;
    public int DecoderDilation { get; init; } = 5;
    /// <summary>Stochastic depth of the last patch-token block (linear from 0 over the blocks).</summary>
    public float DropPathRate { get; init; } = 0.1f;
    public bool QkvBias { get; init; } = true;
    public float NormEps { get; init; } = 1e-6f;
    public AggregationAttention AggregationAttention { get; init; } = AggregationAttention.Unmasked;
    public ClassTokenPooling ClassTokenPooling { get; init; } = ClassTokenPooling.Mca;
    /// <summary>Mask block side in pixels (fsr-spec §4.1: 64 px → 4×4 tokens).</summary>
    public int BlockSize { get; init; } = 64;
    /// <summary>Fraction of blocks masked, rounded up (⌈0.4·49⌉ = 20).</summary>
    public double MaskRatio { get; init; } = 0.4;

    /// <summary>Foreground classes (classifier outputs, CAM channels).</summary>
    public int NumForegroundClasses => NumClasses - 1;
    /// <summary>The training views' patch grid side (28 for 448/16).</summary>
    public int GridSize => ImageSize / PatchSize;
    /// <summary>The aux layer as a 0-based block index.</summary>
    public int AuxBlockIndex => AuxLayer < 0 ? Depth + AuxLayer : AuxLayer;

    /// <summary>The paper's VOC model: ViT-B/16 at 448 px, 21 classes (fsr-spec §9).</summary>
    public static FsrModelConfig VocVitB16 => new();

    /// <summary>The COCO model: as VOC with 81 classes.</summary>
    public static FsrModelConfig CocoVitB16 => new() { NumClasses = 81 };

    /// <summary>
    /// A small network trained from scratch on the synthetic VOC-layout data on a 2-core CPU
    /// (reference-cpu-timings.md config (b)): 128 px, width 192, depth 6, 3 heads, projector 384/384/128 → 1024,
    /// decoder 128, 6 classes, 32-px mask blocks (4×4 = 16 blocks of 2×2 tokens).
    /// </summary>
    public static FsrModelConfig Synthetic => new()
    {
        ImageSize = 128, EmbedDim = 192, Depth = 6, NumHeads = 3, NumClasses = 6,
        ProjHidden = 384, ProjBottleneck = 128, OutDim = 1024, DecoderChannels = 128, BlockSize = 32,
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent field.</summary>
    public void Validate()
    {
        void Positive(string name, double v) { if (!(v > 0)) throw new ArgumentException($"FsrModelConfig.{name} must be positive, got {v.ToString(CultureInfo.InvariantCulture)}"); }
        Positive(nameof(ImageSize), ImageSize); Positive(nameof(PatchSize), PatchSize); Positive(nameof(InChans), InChans);
        Positive(nameof(EmbedDim), EmbedDim); Positive(nameof(Depth), Depth); Positive(nameof(NumHeads), NumHeads);
        Positive(nameof(MlpRatio), MlpRatio); Positive(nameof(ProjHidden), ProjHidden); Positive(nameof(ProjBottleneck), ProjBottleneck);
        Positive(nameof(OutDim), OutDim); Positive(nameof(DecoderChannels), DecoderChannels); Positive(nameof(DecoderDilation), DecoderDilation);
        Positive(nameof(BlockSize), BlockSize);
        if (EmbedDim % NumHeads != 0) throw new ArgumentException($"FsrModelConfig.EmbedDim {EmbedDim} must be divisible by NumHeads {NumHeads}");
        if (NumClasses < 2) throw new ArgumentException($"FsrModelConfig.NumClasses {NumClasses} must count background and at least one class");
        if (ImageSize < PatchSize) throw new ArgumentException($"FsrModelConfig.ImageSize {ImageSize} is smaller than PatchSize {PatchSize}");
        if (AuxBlockIndex < 0 || AuxBlockIndex >= Depth) throw new ArgumentException($"FsrModelConfig.AuxLayer {AuxLayer} names no block of {Depth}");
        if (ClsDepth < 0) throw new ArgumentException($"FsrModelConfig.ClsDepth must be ≥ 0, got {ClsDepth}");
        if (ClassTokenPooling == ClassTokenPooling.Mca && ClsDepth == 0)
            throw new ArgumentException("FsrModelConfig.ClsDepth is 0 but ClassTokenPooling is Mca (the aggregated token needs at least one block)");
        if (ClassTokenPooling != ClassTokenPooling.Mca && ClsDepth != 0)
            throw new ArgumentException($"FsrModelConfig.ClsDepth is {ClsDepth} but ClassTokenPooling is {ClassTokenPooling}, which uses no aggregation blocks (set ClsDepth = 0)");
        if (DropPathRate is < 0 or > 1) throw new ArgumentException($"FsrModelConfig.DropPathRate must be in [0, 1], got {DropPathRate}");
        if (MaskRatio is < 0 or > 1) throw new ArgumentException($"FsrModelConfig.MaskRatio must be in [0, 1], got {MaskRatio}");
        if (BlockSize % PatchSize != 0) throw new ArgumentException($"FsrModelConfig.BlockSize {BlockSize} must be a multiple of PatchSize {PatchSize}");
        if (ImageSize % BlockSize != 0) throw new ArgumentException($"FsrModelConfig.ImageSize {ImageSize} must be a multiple of BlockSize {BlockSize}");
    }
}
