namespace FsrNative.Fsr.Training;

/// <summary>
/// Every setting of an FSR run (fsr-spec §9's hyper-parameter table, §7's optimiser, the data and the run), in
/// sections that are also the sections of the JSON config file (snake_case keys, e.g. <c>optim.max_iters</c>).
/// A value left null is derived from <see cref="OptimConfig.MaxIters"/> when the configuration is resolved
/// (<see cref="ConfigResolver"/>), as the authors' scripts derive it; the resolved configuration, saved in the run
/// folder, has no nulls left except the optional paths.
/// </summary>
public sealed class FsrConfig
{
    /// <summary>The preset the configuration started from (synthetic, voc, coco).</summary>
    public string Preset { get; set; } = "synthetic";
    public ModelConfig Model { get; set; } = new();
    public DataConfig Data { get; set; } = new();
    public OptimConfig Optim { get; set; } = new();
    public FsrLossConfig Fsr { get; set; } = new();
    public LossConfig Losses { get; set; } = new();
    public CamConfig Cam { get; set; } = new();
    public MaskConfig Mask { get; set; } = new();
    public EvalConfig Eval { get; set; } = new();
    public RunConfig Run { get; set; } = new();
}

/// <summary>The network (fsr-spec §3): ViT encoder, aggregation blocks, projector, decoder.</summary>
public sealed class ModelConfig
{
    /// <summary>Name of the backbone layout (timm's name for the pretrained ones, <c>vit_scratch</c> for a randomly initialised one).</summary>
    public string Backbone { get; set; } = "vit_base_patch16_224";
    /// <summary>timm ViT weights (safetensors) to start the encoder from; null: random initialisation.</summary>
    public string? Pretrained { get; set; }
    public int PatchSize { get; set; } = 16;
    public int EmbedDim { get; set; } = 768;
    public int Depth { get; set; } = 12;
    public int NumHeads { get; set; } = 12;
    public double MlpRatio { get; set; } = 4.0;
    /// <summary>Stochastic depth, linear 0 → this over the blocks (§3.1).</summary>
    public double DropPathRate { get; set; } = 0.1;
    /// <summary>Aggregation (cross-attention) blocks (§3.1).</summary>
    public int ClsDepth { get; set; } = 2;
    /// <summary>Which block's output feeds the aux classifier, counted from the end as in the reference (−3 = third from last).</summary>
    public int AuxLayer { get; set; } = -3;
    /// <summary>Projector widths (§3.3): hidden, bottleneck, output.</summary>
    public int ProjHidden { get; set; } = 2048;
    public int ProjBottleneck { get; set; } = 256;
    public int OutDim { get; set; } = 4096;
    /// <summary>LargeFOV decoder channels and dilation (§3.2).</summary>
    public int DecChannels { get; set; } = 512;
    public int DecDilation { get; set; } = 5;
}

/// <summary>The dataset, the training views and the loader.</summary>
public sealed class DataConfig
{
    /// <summary>synthetic (generated on first use), voc (VOC2012 + SBD layout) or coco (§2).</summary>
    public string Dataset { get; set; } = "synthetic";
    /// <summary>Dataset root; null for synthetic: <c>&lt;run.out&gt;/data/synthetic-…</c> (named after its options).</summary>
    public string? Root { get; set; }
    public string TrainSplit { get; set; } = "train_aug";
    public string ValSplit { get; set; } = "val";
    /// <summary>Classes including background (K = C + 1): 21 VOC, 81 COCO, 7 synthetic.</summary>
    public int NumClasses { get; set; } = 21;
    /// <summary>Training crop side (§2.3: 448).</summary>
    public int InputSize { get; set; } = 448;
    /// <summary>Images per optimiser step (the reference: 2 per GPU × 4 GPUs = 8; §2.3 single-device approximation).</summary>
    public int BatchSize { get; set; } = 8;
    /// <summary>Loader threads (null: cores − 1, at least 1).</summary>
    public int? Workers { get; set; }
    public int Prefetch { get; set; } = 4;
    /// <summary>Random resized crop area range (§2.3).</summary>
    public double ScaleMin { get; set; } = 0.32;
    public double ScaleMax { get; set; } = 1.0;
    public double FlipP { get; set; } = 0.5;
    public double JitterP { get; set; } = 0.5;
    /// <summary>Ablation only (Table 5): Gaussian blur and solarisation probabilities.</summary>
    public double BlurP { get; set; }
    public double SolarizeP { get; set; }
    /// <summary>Synthetic dataset: image side, images per split, generator seed.</summary>
    public int SyntheticSize { get; set; } = 128;
    public int SyntheticTrain { get; set; } = 1000;
    public int SyntheticVal { get; set; } = 100;
    public ulong SyntheticSeed { get; set; }
}

/// <summary>AdamW and the learning-rate schedule (§7).</summary>
public sealed class OptimConfig
{
    /// <summary>Optimiser steps of the run (VOC 20,000, COCO 80,000).</summary>
    public long MaxIters { get; set; } = 20000;
    /// <summary>Base learning rate (groups 0/1); the heads (groups 2/3) use lr × lr_scale.</summary>
    public double Lr { get; set; } = 6e-5;
    public double LrScale { get; set; } = 10;
    public double WeightDecay { get; set; } = 0.05;
    public double[] Betas { get; set; } = [0.9, 0.999];
    public double Eps { get; set; } = 1e-8;
    /// <summary>Linear warm-up steps (null: 7.5 % of max_iters, VOC's 1500/20000).</summary>
    public long? WarmupIters { get; set; } = 1500;
    /// <summary>Warm-up starts at this fraction of the rate.</summary>
    public double WarmupRatio { get; set; } = 0.1;
    /// <summary>Micro-batches whose gradients are summed (each scaled by 1/n) before one optimiser step.</summary>
    public int GradAccumulation { get; set; } = 1;
    /// <summary>AdamW's first moment as PyTorch 1.x writes it (m·β₁ + (1 − β₁)·g; the golden file's torch 1.13) instead of torch 2's lerp: differs in the last bit.</summary>
    public bool LegacyFirstMoment { get; set; }
    /// <summary>Global gradient-norm clipping (null: none, as the reference).</summary>
    public double? ClipGrad { get; set; }
    /// <summary>Precision of the matrix products of the student and teacher passes: fp32 (default), or bf16 — torch.autocast
    /// around the forward and backward (matmul/linear, attention, conv2d read bfloat16-rounded operands and accumulate in
    /// float32; parameters, gradients, optimiser state, softmax, norms, reductions and losses stay float32;
    /// docs/engine.md "Mixed precision", effect on the golden agreement in docs/training.md).</summary>
    public string MixedPrecision { get; set; } = "fp32";
}

/// <summary>Teacher/student self-distillation (§5, §6.5).</summary>
public sealed class FsrLossConfig
{
    /// <summary>EMA momentum at iteration 0; rises to 1 along a cosine over fsr_iters (§5).</summary>
    public double Momentum { get; set; } = 0.9995;
    /// <summary>Iterations with the FSR losses on and the EMA schedule running (null: max_iters); after them w_class = w_patch = 0 and momentum 1.</summary>
    public long? FsrIters { get; set; }
    public double StudentTemp { get; set; } = 0.1;
    public double WarmupTeacherTemp { get; set; } = 0.04;
    public double TeacherTemp { get; set; } = 0.07;
    /// <summary>Teacher-temperature ramp length (null: ⌊max_iters/8⌋).</summary>
    public long? TeacherTempWarmupIters { get; set; }
    public double CenterMomentum { get; set; } = 0.9;
    /// <summary>cer.FSR (class token) and unc.FSR (masked patches) weights.</summary>
    public double WClass { get; set; } = 0.1;
    public double WPatch { get; set; } = 0.1;
}

/// <summary>The other loss terms and their stages (§6.6).</summary>
public sealed class LossConfig
{
    /// <summary>Weight of the classification term (MLSM main + aux, each weight 1 in the reference).</summary>
    public double WCls { get; set; } = 1.0;
    public double WAff { get; set; } = 0.2;
    public double WSeg { get; set; } = 0.1;
    public double WReg { get; set; } = 0.05;
    /// <summary>seg and reg count from step (= iteration + 1) &gt; seg_start (VOC 2000, COCO 8000; null: max_iters/10).</summary>
    public long? SegStart { get; set; } = 2000;
    /// <summary>aff counts from step &gt; aff_start (VOC 0, COCO 12000).</summary>
    public long AffStart { get; set; }
    /// <summary>Dense-energy (CRF) regulariser (§6.4): inner weight, σ_rgb, σ_xy, scale.</summary>
    public double RegWeight { get; set; } = 1e-7;
    public double RegSigmaRgb { get; set; } = 15;
    public double RegSigmaXy { get; set; } = 100;
    public double RegScale { get; set; } = 0.5;
}

/// <summary>CAMs, pseudo labels and PAR (§3.5, §3.6, §8.3).</summary>
public sealed class CamConfig
{
    public double HighThre { get; set; } = 0.7;
    public double LowThre { get; set; } = 0.25;
    /// <summary>Background threshold of the CAM evaluation (§8.3).</summary>
    public double BkgThre { get; set; } = 0.5;
    public double[] CamScales { get; set; } = [1.0, 0.5, 1.5];
    public int[] ParDilations { get; set; } = [1, 2, 4, 8, 12, 24];
    public int ParIters { get; set; } = 10;
}

/// <summary>Block masking of view 2 (§4.1).</summary>
public sealed class MaskConfig
{
    /// <summary>Mask tokens of view 2 at all (the reference's use_mim).</summary>
    public bool Enabled { get; set; } = true;
    /// <summary>uncertain: random for the first random_iters iterations, then uncertain-first (the reference); random: random throughout (Table 3's random rows).</summary>
    public string Strategy { get; set; } = "uncertain";
    public int BlockSize { get; set; } = 64;
    public double Ratio { get; set; } = 0.4;
    /// <summary>The uncertain band lo &lt; u &lt; hi.</summary>
    public double UncertainLow { get; set; } = 0.2;
    public double UncertainHigh { get; set; } = 0.7;
    /// <summary>Random-mask phase (null: ⌊max_iters/5⌋).</summary>
    public long? RandomIters { get; set; }
}

/// <summary>Validation and inference (§8).</summary>
public sealed class EvalConfig
{
    /// <summary>Validate every so many steps (VOC 2000, COCO 4000; null: max_iters/10); 0 = only at the end.</summary>
    public long? Interval { get; set; } = 2000;
    public double[] InferScales { get; set; } = [1.0, 1.25, 1.5];
    public bool Flip { get; set; } = true;
    /// <summary>Dense CRF post-processing (§8.2).</summary>
    public bool Crf { get; set; }
    public int CrfIters { get; set; } = 10;
    public double CrfGaussSxy { get; set; } = 1;
    public double CrfGaussWeight { get; set; } = 1;
    public double CrfBilateralSxy { get; set; } = 121;
    public double CrfBilateralSrgb { get; set; } = 5;
    public double CrfBilateralWeight { get; set; } = 4;
}

/// <summary>Where and how the run runs.</summary>
public sealed class RunConfig
{
    /// <summary>Run folder name under out (null: a timestamp, yyyyMMdd-HHmmss).</summary>
    public string? Name { get; set; }
    /// <summary>Folder that holds the run folders.</summary>
    public string Out { get; set; } = "runs";
    public ulong Seed { get; set; }
    /// <summary>auto, cpu, cuda or cuda:N (and ilgpu-cpu for the ILGPU CPU accelerator).</summary>
    public string Device { get; set; } = "auto";
    /// <summary>Save a checkpoint every so many steps (0: only at the end).</summary>
    public long CheckpointInterval { get; set; } = 2000;
    /// <summary>Checkpoints kept (the newest).</summary>
    public int KeepCheckpoints { get; set; } = 3;
    /// <summary>Plain log lines every so many steps (metrics.jsonl always gets every step).</summary>
    public long LogInterval { get; set; } = 50;
    /// <summary>auto (live when stdout is a terminal, plain lines otherwise), live, plain or none.</summary>
    public string Progress { get; set; } = "auto";
}
