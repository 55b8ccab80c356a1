using FsrNative.Data.Loading;
using FsrNative.Fsr.Training;
using FsrNative.Model;
using FsrNative.Nn;
using FsrNative.Optim;
using FsrNative.Weights;
using F = FsrNative.torch.nn.functional;

namespace FsrNative.Tests.Eval;

/// <summary>
/// A tiny FSR configuration for the evaluation tests: the synthetic preset at 32 px (4 training and 4 validation
/// images, generated once per test process), a 3-block ViT of width 12 with 8-px patches (4×4 grid), 16-px mask
/// blocks, stochastic depth 0.5 (so that evaluation mode matters), CPU, no progress output.
/// </summary>
public static class FsrEvalFixture
{
    static readonly Lazy<string> s_data = new(() => Path.Combine(Path.GetTempPath(), $"fsr-eval-tests-{Environment.ProcessId}", "synthetic-32"));

    public static string NewFolder()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"fsr-eval-tests-{Environment.ProcessId}", Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static FsrConfig Config(string outFolder, params (string path, string value)[] extra)
    {
        var overrides = new List<ConfigOverride>();
        void Set(string path, string value) => overrides.Add(new ConfigOverride(path, value, "test"));
        Set("data.root", s_data.Value); Set("data.synthetic_size", "32"); Set("data.synthetic_train", "4"); Set("data.synthetic_val", "4");
        Set("data.input_size", "32"); Set("data.batch_size", "2"); Set("data.workers", "1"); Set("data.prefetch", "2");
        Set("model.patch_size", "8"); Set("model.embed_dim", "12"); Set("model.depth", "3"); Set("model.num_heads", "3");
        Set("model.aux_layer", "-2"); Set("model.proj_hidden", "16"); Set("model.proj_bottleneck", "8"); Set("model.out_dim", "20");
        Set("model.dec_channels", "6"); Set("model.dec_dilation", "2"); Set("model.drop_path_rate", "0.5");
        Set("mask.block_size", "16"); Set("optim.max_iters", "4"); Set("run.out", outFolder); Set("run.device", "cpu");
        Set("run.progress", "none"); Set("run.name", "run"); Set("run.checkpoint_interval", "2"); Set("eval.interval", "2");
        // The paper's three CAM scales (the synthetic preset trains with one), so validation exercises the multi-scale path.
        Set("cam.cam_scales", "1,0.5,1.5");
        foreach (var (p, v) in extra) Set(p, v);
        return ConfigLoader.Load("synthetic", null, overrides);
    }

    /// <summary>A network of <paramref name="config"/> with random weights from <paramref name="seed"/>.</summary>
    public static WsssNetwork Network(FsrConfig config, ulong seed) => new(FsrEvaluation.ModelConfigOf(config), Device.CPU, new Generator(seed));

    /// <summary>Zeroes the decoder's last 1×1 conv (all logits 0: the argmax is background everywhere) and both
    /// classifiers (all CAMs 0: the CAM pseudo labels are background everywhere).</summary>
    public static void PredictBackgroundOnly(WsssNetwork network)
    {
        using var noGrad = torch.no_grad();
        network.decoder.conv8.weight.zero_();
        network.top_classifier.weight.zero_();
        network.aux_classifier.weight.zero_();
    }

    /// <summary>Writes a checkpoint as the <see cref="Trainer"/> does (modules "student" and "teacher") into the run's
    /// checkpoints folder and returns its path.</summary>
    public static string SaveCheckpoint(RunFolder run, long step, WsssNetwork student, WsssNetwork teacher)
    {
        var state = TrainingState.Capture(step, models: new Dictionary<string, Module> { [FsrEvaluation.Student] = student, [FsrEvaluation.Teacher] = teacher });
        return new CheckpointManager(run.CheckpointsPath).Save(state);
    }
}

/// <summary>
/// A training step over two real FSR networks for the trainer's evaluation hook: the student's classification
/// (MLSM on both classifiers) plus small decoder and projector terms, so that every head moves; the teacher follows
/// by EMA. Not the FSR step (that is src/Fsr/Training/FsrTrainingStep): only what the evaluator needs to see.
/// </summary>
sealed class TinyWsssStep : IFsrTrainingStep
{
    readonly WsssNetwork _student, _teacher;

    public TinyWsssStep(FsrConfig config)
    {
        _student = FsrEvalFixture.Network(config, config.Run.Seed + 1);
        _teacher = Teacher.Create(_student);
        Modules = new Dictionary<string, Module> { [FsrEvaluation.Student] = _student, [FsrEvaluation.Teacher] = _teacher };
        var groups = _student.get_param_groups();
        Parameters = new FsrParameterSplit(
            groups[0].Concat(groups[1]).Where(p => p.parameter.requires_grad).ToList(),
            ["encoder.pos_embed", "encoder.cls_token", "encoder.mask_token"],
            groups[2].Concat(groups[3]).Where(p => p.parameter.requires_grad).ToList());
    }

    public IReadOnlyDictionary<string, Module> Modules { get; }
    public FsrParameterSplit Parameters { get; }

    public StepResult Step(Batch batch, StepContext context)
    {
        var o = _student.forward(batch.Views[0], batch.Views[1], null);
        var cls = F.multilabel_soft_margin_loss(o.top_cls_out, batch.Labels).add(F.multilabel_soft_margin_loss(o.aux_cls_out, batch.Labels));
        var seg = o.seg_out.square().mean().mul(0.01f);
        var proj = o.project_out.square().mean().mul(0.01f);
        return new StepResult
        {
            Loss = cls.add(seg).add(proj),
            Terms = new Dictionary<string, double> { ["cls"] = cls.item(), ["seg"] = seg.item(), ["proj"] = proj.item() },
        };
    }

    public void AfterOptimizerStep(StepContext context) => Teacher.Update(_teacher, _student, context.Schedule.Momentum);

    public void Dispose()
    {
        _student.Dispose();
        _teacher.Dispose();
    }
}
