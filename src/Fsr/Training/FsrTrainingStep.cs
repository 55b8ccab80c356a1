using FsrNative.Data.Loading;
using FsrNative.Fsr.Losses;
using FsrNative.Fsr.PseudoLabels;
using FsrNative.Model;
using FsrNative.Nn;

namespace FsrNative.Fsr.Training;

/// <summary>
/// One FSR training iteration (fsr-spec §4) over the student <see cref="WsssNetwork"/>, its EMA teacher and the loss
/// module holding the FSR centres, behind <see cref="IFsrTrainingStep"/> (docs/fsr-iteration.md walks through it):
/// <list type="number">
/// <item>multi-scale CAMs without gradient (§3.5) — view 2's aux CAM for the block mask, view 1's main and aux CAMs for
/// the pseudo labels and PTC — in ONE batched pass over [V1; V2] per scale, only the rows a live term needs;</item>
/// <item>the view-2 block mask (§4.1) with <c>context.Schedule.MaskStrategy</c>, uniforms from <c>context.Generator</c>
/// (or <see cref="MaskNoise"/> to replay stored draws);</item>
/// <item>student forward of [V1; V2] with the mask on V2; teacher forward of both views unmasked, no gradient, projector only;</item>
/// <item>MLSM (§6.1), PAR pseudo labels of V1 (§3.6), balanced seg loss (§6.2) and dense energy (§6.4), PTC (§6.3),
/// unc.FSR / cer.FSR with the centres (§6.5), the total with the schedule's weights (§6.6) — a term whose weight is 0 is
/// not computed (nor its inputs: no PAR before seg_start, no teacher pass once the FSR weights are 0).</item>
/// </list>
/// With <c>optim.mixed_precision = bf16</c> the network passes (CAMs, student, teacher) run inside torch.autocast(): their
/// matrix products read bfloat16-rounded operands, in the forward and — decided there — in the student's backward; the
/// losses, pseudo labels, EMA and optimiser stay float32 (docs/engine.md "Mixed precision").
/// <see cref="AfterOptimizerStep"/> moves the teacher (EMA, §5). Tensors of the graph belong to the trainer's dispose
/// scope around <see cref="Step"/>; everything without gradient is made in inner scopes and freed as soon as it is used.
/// </summary>
public sealed class FsrTrainingStep : IFsrTrainingStep
{
    const int IgnoreIndex = 255;   // the reference's ignore_index for pseudo labels and PTC labels
    /// <summary>The teacher's drop-path stream is seeded run.seed + this, apart from the student's.</summary>
    const ulong TeacherSeedOffset = 0x5EED_7EAC;

    readonly FsrConfig _config;
    readonly BlockMaskGenerator _maskGenerator;
    readonly ParLabelOptions _par;
    readonly DenseEnergyOptions _denseEnergy;
    readonly bool _bf16;
    FsrStepTrace? _trace;

    /// <summary>The student initialised as configured (random init from run.seed; the encoder from model.pretrained for a
    /// timm backbone), the teacher as its copy, the centres at zero.</summary>
    public FsrTrainingStep(FsrConfig config, Device device)
    {
        _config = config;
        _bf16 = config.Optim.MixedPrecision switch
        {
            "fp32" => false,
            "bf16" => true,
            var other => throw new ConfigException([$"optim.mixed_precision = \"{other}\": expected fp32 or bf16"]),
        };
        ModelConfig = FsrModelSettings.Model(config);
        // The generator a network is built with makes its init and then stays the generator of its drop-path
        // (Block → DropPath): the step owns both and lists them in Generators, so a checkpoint holds their positions
        // and a resumed run with model.drop_path_rate > 0 draws the same drop-path masks as an uninterrupted one.
        var studentGenerator = new Generator(config.Run.Seed);
        var teacherGenerator = new Generator(unchecked(config.Run.Seed + TeacherSeedOffset));
        Student = new WsssNetwork(ModelConfig, device, studentGenerator);
        if (config.Model.Backbone != "vit_scratch")
            PretrainedEncoder.load_timm(Student.encoder, config.Model.Pretrained
                ?? throw new ConfigException([$"model.pretrained = null: backbone {config.Model.Backbone} starts from timm weights"]));
        Student.train();
        Teacher = Model.Teacher.Create(Student, teacherGenerator);
        Generators = new Dictionary<string, Generator> { ["student"] = studentGenerator, ["teacher"] = teacherGenerator };
        FsrLoss = new FeatureSelfReinforcementLoss(ModelConfig.OutDim, FsrModelSettings.FsrLoss(config), device);
        _maskGenerator = FsrModelSettings.MaskGenerator(config);
        _par = FsrModelSettings.Par(config);
        _denseEnergy = FsrModelSettings.DenseEnergy(config);
        Modules = new Dictionary<string, Module> { ["student"] = Student, ["teacher"] = Teacher, ["fsr_loss"] = FsrLoss };
        var groups = Student.get_param_groups();   // fsr-spec §7: groups 0–1 encoder, 2–3 heads
        Parameters = new FsrParameterSplit([.. groups[0], .. groups[1]], ["encoder.pos_embed", "encoder.cls_token", "encoder.mask_token"], [.. groups[2], .. groups[3]]);
    }

    public FsrModelConfig ModelConfig { get; }
    public WsssNetwork Student { get; }
    public WsssNetwork Teacher { get; }
    /// <summary>The FSR losses; its persistent buffers class_center / patch_center are the centres (checkpointed).</summary>
    public FeatureSelfReinforcementLoss FsrLoss { get; }
    public IReadOnlyDictionary<string, Module> Modules { get; }
    public FsrParameterSplit Parameters { get; }
    /// <summary>"student" and "teacher": the generators each network was built with, from which its drop-path (the
    /// only dropout of the network; attention and MLP dropout are 0) draws in training mode. Checkpointed by the trainer.</summary>
    public IReadOnlyDictionary<string, Generator> Generators { get; }

    /// <summary>Replays stored mask draws: given the context, the uniforms (B, blocks) to use, or null to draw from
    /// <c>context.Generator</c> (golden <c>step0.mask.noise</c>, <c>train.noise</c>).</summary>
    public Func<StepContext, Tensor?>? MaskNoise { get; set; }

    /// <summary>Per-phase wall and CPU times are added here when set (<c>fsr train --profile-steps</c>).</summary>
    public PhaseTimes? Timings { get; set; }

    /// <summary>Keep a <see cref="FsrStepTrace"/> of each step in <see cref="LastTrace"/>.</summary>
    public bool KeepTrace { get; set; }

    /// <summary>The trace of the latest step (when <see cref="KeepTrace"/>); replaced, and the old one disposed, by the next.</summary>
    public FsrStepTrace? LastTrace => _trace;

    PhaseTimes.Measurement Phase(string name) => Timings?.Measure(name) ?? default;

    /// <summary>The autocast region of a network pass under optim.mixed_precision = bf16; null (no region) for fp32.</summary>
    IDisposable? NetworkPrecision() => _bf16 ? torch.autocast() : null;

    public StepResult Step(Batch batch, StepContext context)
    {
        if (batch.Views.Length != 2) throw new ArgumentException($"FsrTrainingStep: a batch needs two views (fsr-spec §2.3), got {batch.Views.Length}");
        var view1 = batch.Views[0];
        var view2 = batch.Views[1];
        var labels = batch.Labels;
        var w = context.Schedule.Weights;
        var strategy = context.Schedule.MaskStrategy;
        int b = view1.size(0), height = view1.size(2), width = view1.size(3);
        bool needLabels = w.Seg != 0 || w.Reg != 0;

        // (1, 4) multi-scale CAMs, no gradient, one batched pass for the rows that a live term reads.
        bool view1Cams = needLabels || w.Aff != 0, view2Cams = strategy == MaskStrategy.Uncertain;
        StepCams cams = new();
        if (view1Cams || view2Cams)
            using (Phase("cam"))
            using (NetworkPrecision())
                cams = StepCams.Compute(Student, view1, view2, _config.Cam.CamScales, view1Cams, view2Cams);
        using var camsLifetime = cams;

        // (1) the view-2 block mask.
        Tensor? mask2 = null, noise = null;
        if (strategy != MaskStrategy.None)
            using (Phase("mask"))
            {
                var m = _maskGenerator.Generate(b, cams.AuxCam2, labels, strategy, MaskNoise?.Invoke(context), context.Generator);
                m.uncertain_map?.Dispose();
                m.uncertain_blocks?.Dispose();
                (mask2, noise) = (m.mask, m.noise);
            }

        // (2) forward passes: the student with gradients, the teacher's projector outputs without.
        WsssOutput s;
        using (Phase("student_forward"))
        using (NetworkPrecision())
            s = Student.forward(view1, view2, mask2);
        bool fsrClass = w.FsrClass != 0, fsrPatch = w.FsrPatch != 0 && mask2 is not null;
        Tensor? teacherOut = null;
        if (fsrClass || fsrPatch)
            using (Phase("teacher_forward"))
            using (NetworkPrecision())
            using (torch.no_grad())
            using (var scope = torch.NewDisposeScope())
                teacherOut = Teacher.forward_projection(torch.cat([view1, view2], 0)).MoveToOuterDisposeScope();

        // (3) classification.
        ClassificationTerms cls;
        using (Phase("classification")) cls = ClassificationLoss.Compute(s.top_cls_out, s.aux_cls_out, labels);

        // (4, 5) PAR pseudo labels of view 1, then the balanced segmentation loss and the dense-energy regulariser.
        Tensor? pseudoLabels = null, seg = null, reg = null;
        if (needLabels)
        {
            using (Phase("pseudo_labels")) pseudoLabels = RefineLabels(view1, cams.Cam1!, labels);
            using (Phase("seg_losses"))
            {
                var segPred = SegmentationLoss.UpsampleLogits(s.seg_out, height, width);
                if (w.Seg != 0) seg = SegmentationLoss.Balanced(segPred, pseudoLabels, IgnoreIndex);
                if (w.Reg != 0) reg = DenseEnergyRegularizer.Loss(view1, segPred, pseudoLabels, _denseEnergy);
            }
        }

        // (6) patch-token contrast on the final feature map, labels from view 1's aux CAM at the token grid.
        Tensor? aff = null;
        if (w.Aff != 0)
            using (Phase("ptc"))
            {
                Tensor pairMask;
                using (var scope = torch.NewDisposeScope())
                {
                    var tokenLabels = PatchTokenContrast.TokenLabels(cams.AuxCam1!, labels, s.top_fmap.size(2), s.top_fmap.size(3),
                        (float)_config.Cam.HighThre, (float)_config.Cam.LowThre, IgnoreIndex);
                    pairMask = PatchTokenContrast.AffinityMask(tokenLabels, IgnoreIndex).MoveToOuterDisposeScope();
                }
                aff = PatchTokenContrast.Loss(s.top_fmap, pairMask);
            }

        // (7) feature self-reinforcement; each call uses the current centres, then updates them.
        Tensor? fsrCls = null, fsrPat = null;
        float teacherTemperature = (float)context.Schedule.TeacherTemperature;
        using (Phase("fsr_losses"))
        {
            if (fsrClass) fsrCls = FsrLoss.ClassTokenLoss(teacherOut!, s.project_out, teacherTemperature);
            if (fsrPatch) fsrPat = FsrLoss.PatchLoss(teacherOut!, s.project_out, mask2, teacherTemperature);
        }

        // (8) the total with this iteration's weights (terms at weight 0 were not computed).
        Tensor total;
        var terms = new LossTerms { TopCls = cls.Top, AuxCls = cls.Aux, FsrClass = fsrCls, FsrPatch = fsrPat, Aff = aff, Seg = seg, Reg = reg };
        using (Phase("total")) total = LossTotal.Compute(terms, w);

        // The numbers to log stay on the device (no host read here): the trainer reads them with the gradient norm.
        StepValues stepValues;
        using (torch.no_grad())
        {
            var termNames = new List<string> { "cls" };
            var packed = new List<Tensor> { cls.Total };
            void Put(string key, Tensor? t) { if (t is not null) { termNames.Add(key); packed.Add(t); } }
            Put("aff", aff); Put("seg", seg); Put("reg", reg); Put("fsr_cls", fsrCls); Put("fsr_pat", fsrPat);
            var scalarNames = new List<string> { "top_cls", "aux_cls" };
            packed.Add(cls.Top);
            packed.Add(cls.Aux);
            if (mask2 is not null) { scalarNames.Add("masked_fraction"); packed.Add(mask2.mean()); }
            if (pseudoLabels is not null)
                using (var asFloat = pseudoLabels.to(DType.Float32))
                using (var ignored = asFloat.eq(IgnoreIndex))
                {
                    scalarNames.Add("pl_ignored_fraction");
                    packed.Add(ignored.mean());
                }
            stepValues = new StepValues(termNames, scalarNames, torch.stack(packed.Select(t => t.detach()).ToList()));
        }

        if (KeepTrace) Keep(noise, mask2, pseudoLabels, stepValues, total);
        return new StepResult { Loss = total, Values = stepValues };
    }

    /// <summary>PAR pseudo labels of view 1 (fsr-spec §3.6): the view de-normalised to 8-bit then [0, 1], y ⊙ CAM, PAR.</summary>
    Tensor RefineLabels(Tensor view1, Tensor cam1, Tensor labels)
    {
        using var noGrad = torch.no_grad();
        using var images01 = ImageDenormalization.ToUnitBytes(view1);
        using var validCam = CamLabels.ValidCam(cam1, labels);
        return ParPseudoLabels.Refine(images01, validCam, labels, _par);
    }

    void Keep(Tensor? noise, Tensor? mask2, Tensor? pseudoLabels, StepValues stepValues, Tensor total)
    {
        Tensor? Copy(Tensor? t)
        {
            if (t is null) return null;
            using var noGrad = torch.no_grad();
            return t.clone().DetachFromDisposeScope();
        }
        float[] read;
        using (torch.no_grad())
        using (var all = torch.cat([stepValues.Packed, total.detach().reshape([1])]))
            read = all.ToArray();   // sync point: tracing only (golden tests), one read of every value
        var (values, scalars) = stepValues.Split(read);
        var losses = new Dictionary<string, double>(values) { ["top_cls"] = scalars["top_cls"], ["aux_cls"] = scalars["aux_cls"], ["total"] = read[^1] };
        _trace?.Dispose();
        _trace = new FsrStepTrace { Noise = Copy(noise), Mask2 = Copy(mask2), PseudoLabels = Copy(pseudoLabels), Losses = losses };
    }

    /// <summary>fsr-spec §4 step 9: θ_t ← m·θ_t + (1 − m)·θ_s with m = <c>context.Schedule.Momentum</c>.</summary>
    public void AfterOptimizerStep(StepContext context)
    {
        using (Phase("ema")) Model.Teacher.Update(Teacher, Student, context.Schedule.Momentum);
    }

    public void Dispose()
    {
        _trace?.Dispose();
        _trace = null;
        Student.Dispose();
        Teacher.Dispose();
        FsrLoss.Dispose();
    }
}
