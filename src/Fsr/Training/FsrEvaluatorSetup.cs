using FsrNative.Crf;
using System.Globalization;
using FsrNative.Eval;
using FsrNative.Model;
using FsrNative.Nn;
using FsrNative.Weights;

namespace FsrNative.Fsr.Training;

/// <summary>
/// How a configuration is evaluated: the network it describes, its weights from a training checkpoint, and the
/// evaluation settings of fsr-spec §8.3 (in-training validation) and §8.1–8.2 (reported numbers, dense CRF).
/// </summary>
public static class FsrEvaluation
{
    /// <summary>The checkpoint names of the two networks (the FSR step's <see cref="IFsrTrainingStep.Modules"/>).</summary>
    public const string Student = "student", Teacher = "teacher";

    /// <summary>The network of a configuration (fsr-spec §3): model.* for the encoder and heads, data.input_size for the
    /// position-embedding grid, data.num_classes, mask.block_size/ratio for the block mask.</summary>
    public static FsrModelConfig ModelConfigOf(FsrConfig c) => FsrModelSettings.Model(c);

    /// <summary>
    /// The <paramref name="model"/> network ("student" or "teacher", fsr-spec §8.5) of a checkpoint written by the
    /// <see cref="Trainer"/>, built from the run's configuration on <paramref name="device"/>, in evaluation mode.
    /// Errors name the file and what is wrong with it (missing, corrupt, no such network, weights of another shape).
    /// </summary>
    public static WsssNetwork LoadNetwork(FsrConfig c, string checkpoint, string model, Device device, out long step)
    {
        if (!File.Exists(checkpoint)) throw new FileNotFoundException($"checkpoint {checkpoint}: no such file", checkpoint);
        var network = new WsssNetwork(ModelConfigOf(c), device, new Generator(c.Run.Seed));
        try
        {
            using var scope = torch.NewDisposeScope();
            var state = Checkpoint.Load(checkpoint);
            if (!state.Models.TryGetValue(model, out var weights))
                throw new ArgumentException($"checkpoint {checkpoint}: holds no '{model}' network (it holds: {string.Join(", ", state.Models.Keys.Order(StringComparer.Ordinal))})");
            try
            {
                network.load_state_dict(weights);
            }
            catch (StateDictException e)
            {
                throw new ArgumentException($"checkpoint {checkpoint}: its '{model}' weights do not fit the network of the run's configuration ({e.Message})", e);
            }
            step = state.Step;
        }
        catch
        {
            network.Dispose();
            throw;
        }
        network.eval();
        return network;
    }

    /// <summary>Spec §8.3: images resized to data.input_size, a single decoder pass, multi-scale CAMs (cam.cam_scales)
    /// scored in single-threshold mode at cam.bkg_thre.</summary>
    public static EvaluationOptions Validation(FsrConfig c, Device device) =>
        EvaluationOptions.ForValidation(c.Data.InputSize, (float)c.Cam.BkgThre) with
        {
            Cam = CamOptions(c), Device = device, Workers = Math.Max(1, c.Data.Workers ?? 1),
            // Resized inputs batch; the label maps (scored at their own size) only stack when all images share a size.
            BatchSize = c.Data.Dataset == "synthetic" ? Math.Max(1, c.Data.BatchSize) : 1,
        };

    /// <summary>Spec §8.1 (and §8.2 with <paramref name="crf"/>): original size, eval.infer_scales with eval.flip, the
    /// dense CRF with the eval.crf_* settings; the CAMs as in <see cref="Validation"/> but at the original size.</summary>
    public static EvaluationOptions Reported(FsrConfig c, Device device, bool crf) => new()
    {
        InputSize = null, Segmentation = SegmentationOptions(c), Cam = CamOptions(c), CamThreshold = (float)c.Cam.BkgThre,
        Device = device, Workers = Math.Max(1, c.Data.Workers ?? 1), BatchSize = 1,
        PostProcessor = crf ? DenseCrfPostProcessor.Create(CrfParameters(c.Eval)) : null, PostProcessorName = "CRF",
    };

    /// <summary>eval.infer_scales and eval.flip.</summary>
    public static SegInferenceOptions SegmentationOptions(FsrConfig c) => new() { Scales = c.Eval.InferScales.ToArray(), Flip = c.Eval.Flip };

    /// <summary>cam.cam_scales with flips (spec §3.5).</summary>
    public static CamInferenceOptions CamOptions(FsrConfig c) => new() { Scales = c.Cam.CamScales.ToArray() };

    /// <summary>The dense CRF settings eval.crf_* (spec §8.2).</summary>
    public static DenseCrfParams CrfParameters(EvalConfig e) => new()
    {
        Iterations = e.CrfIters, GaussianSigma = (float)e.CrfGaussSxy, GaussianWeight = (float)e.CrfGaussWeight,
        BilateralSigmaXy = (float)e.CrfBilateralSxy, BilateralSigmaRgb = (float)e.CrfBilateralSrgb, BilateralWeight = (float)e.CrfBilateralWeight,
    };

    /// <summary>The configuration facts a report shows, in order.</summary>
    public static List<KeyValuePair<string, string>> Facts(FsrConfig c, long step, Device device)
    {
        var inv = CultureInfo.InvariantCulture;
        var m = c.Model;
        return
        [
            new("dataset", $"{c.Data.Dataset} ({c.Data.Root}); train '{c.Data.TrainSplit}', validation '{c.Data.ValSplit}', {c.Data.NumClasses} labels"),
            new("model", string.Create(inv, $"{m.Backbone}{(m.Pretrained is null ? " (from scratch)" : $" from {m.Pretrained}")}: {m.Depth} blocks, width {m.EmbedDim}, {m.NumHeads} heads, patch {m.PatchSize}, {m.ClsDepth} aggregation blocks, aux layer {m.AuxLayer}, decoder {m.DecChannels} ch.")),
            new("training", string.Create(inv, $"step {step} of {c.Optim.MaxIters}; {c.Data.BatchSize} images × {c.Optim.GradAccumulation} micro-batches at {c.Data.InputSize} px; lr {c.Optim.Lr:G3} (heads ×{c.Optim.LrScale:G3}); seed {c.Run.Seed}")),
            new("FSR", string.Create(inv, $"w_class {c.Fsr.WClass:G3}, w_patch {c.Fsr.WPatch:G3}; mask {(c.Mask.Enabled ? $"{c.Mask.Strategy}, ratio {c.Mask.Ratio:G3}, {c.Mask.BlockSize} px blocks" : "off")}; EMA from {c.Fsr.Momentum:G6}")),
            new("CAM", string.Create(inv, $"scales [{string.Join(", ", c.Cam.CamScales.Select(s => s.ToString("G3", inv)))}], bkg threshold {c.Cam.BkgThre:G3}")),
            new("device", device.ToString()),
        ];
    }
}
