using System.Globalization;

namespace FsrNative.Fsr.Training;

/// <summary>
/// Checks a resolved configuration and reports every fault at once (<see cref="ConfigException"/>), each as
/// "setting = value: what is wrong".
/// </summary>
public static class ConfigValidator
{
    public static void Validate(FsrConfig c)
    {
        var p = new List<string>();
        void Check(bool ok, string setting, object? value, string rule)
        {
            if (!ok) p.Add($"{setting} = {Show(value)}: {rule}");
        }

        Check(FsrPresets.Names.Contains(c.Preset), "preset", c.Preset, $"expected one of {string.Join(", ", FsrPresets.Names)}");

        var m = c.Model;
        Check(m.Backbone is "vit_scratch" or "vit_base_patch16_224" or "vit_small_patch16_224" or "vit_tiny_patch16_224", "model.backbone", m.Backbone,
            "expected vit_scratch (random init, dims from model.*) or a timm ViT/16 name (vit_base_patch16_224, vit_small_patch16_224, vit_tiny_patch16_224)");
        if (m.Backbone != "vit_scratch")
            Check(m.Pretrained is not null, "model.pretrained", m.Pretrained,
                $"backbone {m.Backbone} starts from timm weights: pass --pretrained PATH (a .safetensors file), or set model.backbone to vit_scratch");
        if (m.Pretrained is not null)
            Check(File.Exists(m.Pretrained), "model.pretrained", m.Pretrained, "the file does not exist");
        Check(m.PatchSize >= 1, "model.patch_size", m.PatchSize, "must be ≥ 1");
        Check(m.EmbedDim >= 1, "model.embed_dim", m.EmbedDim, "must be ≥ 1");
        Check(m.NumHeads >= 1 && m.EmbedDim % Math.Max(1, m.NumHeads) == 0, "model.num_heads", m.NumHeads, $"must be ≥ 1 and divide model.embed_dim ({m.EmbedDim})");
        Check(m.Depth >= 1, "model.depth", m.Depth, "must be ≥ 1");
        Check(m.AuxLayer < 0 && -m.AuxLayer <= m.Depth, "model.aux_layer", m.AuxLayer, $"must be in -{m.Depth}..-1 (counted from the last block)");
        Check(m.MlpRatio > 0, "model.mlp_ratio", m.MlpRatio, "must be > 0");
        Check(m.DropPathRate is >= 0 and < 1, "model.drop_path_rate", m.DropPathRate, "must be in [0, 1)");
        Check(m.ClsDepth >= 1, "model.cls_depth", m.ClsDepth, "must be ≥ 1");
        Check(m.ProjHidden >= 1, "model.proj_hidden", m.ProjHidden, "must be ≥ 1");
        Check(m.ProjBottleneck >= 1, "model.proj_bottleneck", m.ProjBottleneck, "must be ≥ 1");
        Check(m.OutDim >= 1, "model.out_dim", m.OutDim, "must be ≥ 1");
        Check(m.DecChannels >= 1, "model.dec_channels", m.DecChannels, "must be ≥ 1");
        Check(m.DecDilation >= 1, "model.dec_dilation", m.DecDilation, "must be ≥ 1");

        var d = c.Data;
        Check(d.Dataset is "synthetic" or "voc" or "coco", "data.dataset", d.Dataset, "expected synthetic, voc or coco");
        if (d.Dataset is "voc" or "coco")
        {
            Check(d.Root is not null, "data.root", d.Root, $"the {d.Dataset} dataset needs its root folder: pass --data PATH");
            if (d.Root is not null) Check(Directory.Exists(d.Root), "data.root", d.Root, "the folder does not exist");
        }
        Check(!string.IsNullOrWhiteSpace(d.TrainSplit), "data.train_split", d.TrainSplit, "must name a split list");
        Check(!string.IsNullOrWhiteSpace(d.ValSplit), "data.val_split", d.ValSplit, "must name a split list");
        Check(d.NumClasses >= 2, "data.num_classes", d.NumClasses, "must be ≥ 2 (background + at least one class)");
        if (d.Dataset == "synthetic")
            Check(d.NumClasses == Data.Synthetic.SyntheticDataset.Classes.NumLabels, "data.num_classes", d.NumClasses,
                $"the synthetic dataset has {Data.Synthetic.SyntheticDataset.Classes.NumLabels} labels (background + {Data.Synthetic.SyntheticDataset.Classes.NumClasses} classes)");
        Check(d.InputSize >= m.PatchSize && d.InputSize % Math.Max(1, m.PatchSize) == 0, "data.input_size", d.InputSize, $"must be a positive multiple of model.patch_size ({m.PatchSize})");
        Check(d.BatchSize >= 1, "data.batch_size", d.BatchSize, "must be ≥ 1");
        Check(d.Workers is null or >= 1, "data.workers", d.Workers, "must be ≥ 1");
        Check(d.Prefetch >= 1, "data.prefetch", d.Prefetch, "must be ≥ 1");
        Check(d.ScaleMin > 0 && d.ScaleMin <= d.ScaleMax && d.ScaleMax <= 1, "data.scale_min", d.ScaleMin, $"need 0 < scale_min ≤ scale_max ({d.ScaleMax}) ≤ 1");
        foreach (var (name, v) in new[] { ("data.flip_p", d.FlipP), ("data.jitter_p", d.JitterP), ("data.blur_p", d.BlurP), ("data.solarize_p", d.SolarizeP) })
            Check(v is >= 0 and <= 1, name, v, "a probability must be in [0, 1]");
        Check(d.SyntheticSize is >= 32 and <= 1024, "data.synthetic_size", d.SyntheticSize, "must be in 32..1024");
        Check(d.SyntheticTrain >= 1, "data.synthetic_train", d.SyntheticTrain, "must be ≥ 1");
        Check(d.SyntheticVal >= 1, "data.synthetic_val", d.SyntheticVal, "must be ≥ 1");
        if (d.Dataset == "synthetic")
            Check(d.SyntheticTrain >= d.BatchSize * Math.Max(1, c.Optim.GradAccumulation), "data.synthetic_train", d.SyntheticTrain,
                $"must hold at least one batch (data.batch_size {d.BatchSize})");

        var o = c.Optim;
        Check(o.MaxIters >= 1, "optim.max_iters", o.MaxIters, "must be ≥ 1");
        Check(o.Lr > 0 && double.IsFinite(o.Lr), "optim.lr", o.Lr, "must be a positive number");
        Check(o.LrScale > 0 && double.IsFinite(o.LrScale), "optim.lr_scale", o.LrScale, "must be a positive number");
        Check(o.WeightDecay >= 0, "optim.weight_decay", o.WeightDecay, "must be ≥ 0");
        Check(o.Betas.Length == 2 && o.Betas.All(b => b is >= 0 and < 1), "optim.betas", o.Betas, "expected two numbers in [0, 1)");
        Check(o.Eps >= 0, "optim.eps", o.Eps, "must be ≥ 0");
        Check(o.WarmupIters is >= 0 && o.WarmupIters < o.MaxIters, "optim.warmup_iters", o.WarmupIters, $"must be in 0..max_iters − 1 ({o.MaxIters - 1})");
        Check(o.WarmupRatio is >= 0 and <= 1, "optim.warmup_ratio", o.WarmupRatio, "must be in [0, 1]");
        Check(o.GradAccumulation >= 1, "optim.grad_accumulation", o.GradAccumulation, "must be ≥ 1");
        Check(o.ClipGrad is null or > 0, "optim.clip_grad", o.ClipGrad, "must be > 0 (or null for no clipping)");
        Check(o.MixedPrecision is "fp32" or "bf16", "optim.mixed_precision", o.MixedPrecision, "expected fp32 or bf16");

        var f = c.Fsr;
        Check(f.Momentum is >= 0 and <= 1, "fsr.momentum", f.Momentum, "must be in [0, 1]");
        Check(f.FsrIters is >= 0 && f.FsrIters <= o.MaxIters, "fsr.fsr_iters", f.FsrIters, $"must be in 0..max_iters ({o.MaxIters})");
        Check(f.StudentTemp > 0, "fsr.student_temp", f.StudentTemp, "must be > 0");
        Check(f.TeacherTemp > 0, "fsr.teacher_temp", f.TeacherTemp, "must be > 0");
        Check(f.WarmupTeacherTemp > 0, "fsr.warmup_teacher_temp", f.WarmupTeacherTemp, "must be > 0");
        Check(f.TeacherTempWarmupIters is >= 0 && f.TeacherTempWarmupIters <= o.MaxIters, "fsr.teacher_temp_warmup_iters", f.TeacherTempWarmupIters, $"must be in 0..max_iters ({o.MaxIters})");
        Check(f.CenterMomentum is >= 0 and <= 1, "fsr.center_momentum", f.CenterMomentum, "must be in [0, 1]");
        Check(f.WClass >= 0, "fsr.w_class", f.WClass, "must be ≥ 0");
        Check(f.WPatch >= 0, "fsr.w_patch", f.WPatch, "must be ≥ 0");

        var l = c.Losses;
        foreach (var (name, v) in new[] { ("losses.w_cls", l.WCls), ("losses.w_aff", l.WAff), ("losses.w_seg", l.WSeg), ("losses.w_reg", l.WReg), ("losses.reg_weight", l.RegWeight) })
            Check(v >= 0 && double.IsFinite(v), name, v, "must be a number ≥ 0");
        Check(l.SegStart is >= 0, "losses.seg_start", l.SegStart, "must be ≥ 0");
        Check(l.AffStart >= 0, "losses.aff_start", l.AffStart, "must be ≥ 0");
        Check(l.RegSigmaRgb > 0, "losses.reg_sigma_rgb", l.RegSigmaRgb, "must be > 0");
        Check(l.RegSigmaXy > 0, "losses.reg_sigma_xy", l.RegSigmaXy, "must be > 0");
        Check(l.RegScale is > 0 and <= 1, "losses.reg_scale", l.RegScale, "must be in (0, 1]");

        var cam = c.Cam;
        Check(cam.LowThre is >= 0 and <= 1 && cam.HighThre is >= 0 and <= 1 && cam.LowThre < cam.HighThre, "cam.low_thre", cam.LowThre, $"need 0 ≤ low_thre < high_thre ({cam.HighThre}) ≤ 1");
        Check(cam.BkgThre is >= 0 and <= 1, "cam.bkg_thre", cam.BkgThre, "must be in [0, 1]");
        Check(cam.CamScales.Length >= 1 && cam.CamScales.All(s => s > 0), "cam.cam_scales", cam.CamScales, "expected a non-empty list of positive scales");
        Check(cam.ParDilations.Length >= 1 && cam.ParDilations.All(x => x >= 1), "cam.par_dilations", cam.ParDilations, "expected a non-empty list of dilations ≥ 1");
        Check(cam.ParIters >= 0, "cam.par_iters", cam.ParIters, "must be ≥ 0");

        var k = c.Mask;
        Check(k.Strategy is "uncertain" or "random", "mask.strategy", k.Strategy, "expected uncertain or random");
        Check(k.BlockSize >= m.PatchSize && k.BlockSize % Math.Max(1, m.PatchSize) == 0 && d.InputSize % Math.Max(1, k.BlockSize) == 0, "mask.block_size", k.BlockSize,
            $"must be a multiple of model.patch_size ({m.PatchSize}) that divides data.input_size ({d.InputSize})");
        Check(k.Ratio is > 0 and <= 1, "mask.ratio", k.Ratio, "must be in (0, 1]");
        Check(k.UncertainLow is >= 0 and <= 1 && k.UncertainHigh is >= 0 and <= 1 && k.UncertainLow < k.UncertainHigh, "mask.uncertain_low", k.UncertainLow,
            $"need 0 ≤ uncertain_low < uncertain_high ({k.UncertainHigh}) ≤ 1");
        Check(k.RandomIters is >= 0, "mask.random_iters", k.RandomIters, "must be ≥ 0");

        var e = c.Eval;
        Check(e.Interval is >= 0, "eval.interval", e.Interval, "must be ≥ 0 (0: only at the end)");
        Check(e.InferScales.Length >= 1 && e.InferScales.All(s => s > 0), "eval.infer_scales", e.InferScales, "expected a non-empty list of positive scales");
        Check(e.CrfIters >= 0, "eval.crf_iters", e.CrfIters, "must be ≥ 0");

        var r = c.Run;
        Check(r.Name is null || (r.Name.Length > 0 && r.Name.IndexOfAny(Path.GetInvalidFileNameChars()) < 0 && r.Name is not "." and not ".."), "run.name", r.Name, "must be a plain folder name");
        Check(!string.IsNullOrWhiteSpace(r.Out), "run.out", r.Out, "must name a folder");
        // "auto" is resolved when the run starts (it probes for CUDA); the other forms are checked here.
        try { if (r.Device.Trim().ToLowerInvariant() != "auto") Device.Parse(r.Device); }
        catch (ArgumentException ex) { p.Add($"run.device = {Show(r.Device)}: {ex.Message}"); }
        Check(r.CheckpointInterval >= 0, "run.checkpoint_interval", r.CheckpointInterval, "must be ≥ 0 (0: only at the end)");
        Check(r.KeepCheckpoints >= 1, "run.keep_checkpoints", r.KeepCheckpoints, "must be ≥ 1");
        Check(r.LogInterval >= 1, "run.log_interval", r.LogInterval, "must be ≥ 1");
        Check(r.Progress is "auto" or "live" or "plain" or "none", "run.progress", r.Progress, "expected auto, live, plain or none");

        if (p.Count > 0) throw new ConfigException(p);
    }

    static string Show(object? v) => v switch
    {
        null => "null",
        string s => $"\"{s}\"",
        double x => x.ToString("R", CultureInfo.InvariantCulture),
        double[] a => "[" + string.Join(", ", a.Select(x => x.ToString("R", CultureInfo.InvariantCulture))) + "]",
        int[] a => "[" + string.Join(", ", a) + "]",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };
}
