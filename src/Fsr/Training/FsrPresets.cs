namespace FsrNative.Fsr.Training;

/// <summary>
/// The starting points of a configuration. <c>voc</c> and <c>coco</c> are the paper's settings as the authors'
/// train_voc.py / train_coco.py set them (fsr-spec §9); <c>synthetic</c> (the default) is a small ViT trained from
/// scratch on the embedded synthetic dataset at 64 px, sized to finish on a 2-core CPU in under ten minutes.
/// Settings left null are derived from max_iters when the configuration is resolved.
/// </summary>
public static class FsrPresets
{
    public const string Synthetic = "synthetic", Voc = "voc", Coco = "coco";
    public static IReadOnlyList<string> Names { get; } = [Synthetic, Voc, Coco];

    /// <summary>A fresh configuration of the named preset.</summary>
    public static FsrConfig Get(string name) => name switch
    {
        Synthetic => SyntheticPreset(),
        Voc => VocPreset(),
        Coco => CocoPreset(),
        _ => throw new ConfigException([$"preset = \"{name}\": unknown preset (known: {string.Join(", ", Names)})"]),
    };

    /// <summary>PASCAL VOC 2012 + SBD (fsr-spec §9, VOC column): ViT-B/16 from timm weights, 448 px, 20,000 steps.</summary>
    static FsrConfig VocPreset() => new()
    {
        Preset = Voc,
        // ViT-B/16 (IN-21k → IN-1k, 224): the encoder starts from --pretrained.
        Model = new ModelConfig(),
        Data = new DataConfig { Dataset = "voc", TrainSplit = "train_aug", ValSplit = "val", NumClasses = 21 },
        Optim = new OptimConfig { MaxIters = 20000, WarmupIters = 1500 },
        Fsr = new FsrLossConfig { Momentum = 0.9995 },
        Losses = new LossConfig { SegStart = 2000, AffStart = 0 },
        Cam = new CamConfig { HighThre = 0.7, LowThre = 0.25, BkgThre = 0.5 },
        Mask = new MaskConfig(),
        Eval = new EvalConfig { Interval = 2000, Crf = true },
        Run = new RunConfig { CheckpointInterval = 2000, LogInterval = 200 },
    };

    /// <summary>MS COCO 2014 (fsr-spec §9, COCO column): 80,000 steps, thresholds 0.65/0.45, seg/reg after 8,000, aff after 12,000.</summary>
    static FsrConfig CocoPreset() => new()
    {
        Preset = Coco,
        Model = new ModelConfig(),
        Data = new DataConfig { Dataset = "coco", TrainSplit = "train", ValSplit = "val_part", NumClasses = 81 },
        Optim = new OptimConfig { MaxIters = 80000, WarmupIters = 1500 },
        Fsr = new FsrLossConfig { Momentum = 0.9995 },
        Losses = new LossConfig { SegStart = 8000, AffStart = 12000 },
        Cam = new CamConfig { HighThre = 0.65, LowThre = 0.25, BkgThre = 0.45 },
        Mask = new MaskConfig(),
        Eval = new EvalConfig { Interval = 4000, Crf = true },
        Run = new RunConfig { CheckpointInterval = 4000, LogInterval = 400 },
    };

    /// <summary>
    /// The embedded synthetic dataset (6 classes + background) rendered at 64 px, a 4-block ViT of width 96 with
    /// 8 px patches (8×8 tokens) from scratch, 1600 steps of 4 images. From scratch the rates are higher than the
    /// fine-tuning rates of the paper (5e-4 encoder, 2e-3 heads); the EMA starts at 0.99 so the teacher moves within
    /// the short run (as the golden configuration does). Warm-up, stages, teacher-temperature ramp, random-mask phase
    /// and validation interval follow max_iters (null = derived), so <c>--steps</c> rescales the whole schedule.
    /// <para>Why 64 px / patch 8 rather than 128 px / patch 16 (same 8×8 token grid): the step's cost is mostly
    /// image-sized work (multi-scale CAMs, PAR, seg + reg: about 75 % of the CPU at 128 px) while the encoder's backward
    /// is about 12 %, and the from-scratch classifier needs many images before its CAMs leave the scene context (the
    /// dataset's classes co-occur with their backgrounds 76–86 % of the time): at 64 px a step is about 3× cheaper,
    /// so the run sees 6400 images instead of 1600 in less time than before.</para>
    /// <para>Measured (`fsr train`, default settings, shared 2-core machine, 2026-11-28): 6 min 53 s wall including
    /// dataset generation (under 10 s), 436 s user + 49 s system CPU, 332 MB peak RSS, 1-minute load average 5–13 from
    /// other builds (800 steps at load 26–31 took 3 min 47 s, so about 7.5 min at that load); `dotnet run -c Release
    /// --project src/Fsr -- train` at load 3–5: 4 min 15 s wall, the same scores (the run is deterministic). Final validation
    /// (100 images): student decoder mIoU 14.29 %, CAM 20.65 %, aux CAM 20.17 %; teacher 14.08 / 17.49 / 19.58 %;
    /// trivial baselines all-background 12.79 %, best single class 0.40 %. The previous setting (128 px, patch 16,
    /// 400 steps) reached decoder 12.88 %, CAM 16.66 %, aux CAM 16.20 % in 4 min 43 s at load 20–45. Still modest:
    /// CAMs are clearly above the baselines (cow 35 %, background 69 %), the decoder only a little. Checks that ruled
    /// out the data path: image labels match the masks (label c ↔ mask value c + 1, 0 mismatches in 200 images);
    /// 16 memorised training images (MLSM 0.06) still give CAM mIoU 11.3 % on those same images, their CAMs covering
    /// the typical background of each class (context, not a bug); the 400-step run's classifier has val mAP 0.61
    /// (prior 0.22) but per-label accuracy 80.3 % against 78.2 % for the prior; random resized crops (scale ≥ 0.32)
    /// drop a labelled class from 3.3 % of views. Not better at 128 px: 800 steps with a single CAM scale (decoder
    /// 12.22 %, CAM 13.04 %); classification-only runs at lr 5e-5…1e-3, batch 4 or 8, milder crops and no colour jitter
    /// plateau for the first few thousand images (CAM 19.3 %, aux 24.7 % only after 1000 steps of 8).</para>
    /// </summary>
    static FsrConfig SyntheticPreset() => new()
    {
        Preset = Synthetic,
        Model = new ModelConfig
        {
            Backbone = "vit_scratch", Pretrained = null, PatchSize = 8, EmbedDim = 96, Depth = 4, NumHeads = 3, MlpRatio = 4,
            DropPathRate = 0.05, ClsDepth = 2, AuxLayer = -3, ProjHidden = 256, ProjBottleneck = 64, OutDim = 1024,
            DecChannels = 64, DecDilation = 2,
        },
        Data = new DataConfig
        {
            Dataset = "synthetic", TrainSplit = "train_aug", ValSplit = "val", NumClasses = 7, InputSize = 64, BatchSize = 4,
            SyntheticSize = 64, SyntheticTrain = 1000, SyntheticVal = 100,
        },
        Optim = new OptimConfig { MaxIters = 1600, Lr = 5e-4, LrScale = 4, WarmupIters = null },
        Fsr = new FsrLossConfig { Momentum = 0.99 },
        Losses = new LossConfig { SegStart = null, AffStart = 0 },
        Cam = new CamConfig(),
        // 64 px / 16 px blocks = 4×4 blocks of 2×2 tokens; ⌈0.4·16⌉ = 7 masked.
        Mask = new MaskConfig { BlockSize = 16 },
        Eval = new EvalConfig { Interval = null, Crf = false },
        Run = new RunConfig { CheckpointInterval = 100, KeepCheckpoints = 3, LogInterval = 10 },
    };
}
