using FsrNative.Fsr.Losses;
using FsrNative.Fsr.PseudoLabels;
using FsrNative.Model;

namespace FsrNative.Fsr.Training;

/// <summary>
/// The settings of a resolved <see cref="FsrConfig"/> in the types the network, the mask generator, PAR and the losses
/// take (fsr-spec §3, §4.1, §3.6, §6.4, §6.5, §9). One place, so the step and the tools that rebuild its parts agree.
/// </summary>
public static class FsrModelSettings
{
    /// <summary>The network (model.*, data.input_size, data.num_classes) and its block mask (mask.block_size, mask.ratio).</summary>
    public static FsrModelConfig Model(FsrConfig c) => new()
    {
        ImageSize = c.Data.InputSize,
        PatchSize = c.Model.PatchSize,
        EmbedDim = c.Model.EmbedDim,
        Depth = c.Model.Depth,
        NumHeads = c.Model.NumHeads,
        MlpRatio = (float)c.Model.MlpRatio,
        ClsDepth = c.Model.ClsDepth,
        AuxLayer = c.Model.AuxLayer,
        NumClasses = c.Data.NumClasses,
        ProjHidden = c.Model.ProjHidden,
        ProjBottleneck = c.Model.ProjBottleneck,
        OutDim = c.Model.OutDim,
        DecoderChannels = c.Model.DecChannels,
        DecoderDilation = c.Model.DecDilation,
        DropPathRate = (float)c.Model.DropPathRate,
        BlockSize = c.Mask.BlockSize,
        MaskRatio = c.Mask.Ratio,
    };

    /// <summary>The view-2 block mask of fsr-spec §4.1 with the uncertain band mask.uncertain_low &lt; u &lt; mask.uncertain_high.</summary>
    public static BlockMaskGenerator MaskGenerator(FsrConfig c)
        => new(c.Data.InputSize, c.Model.PatchSize, c.Mask.BlockSize, c.Mask.Ratio, (float)c.Mask.UncertainLow, (float)c.Mask.UncertainHigh);

    /// <summary>PAR pseudo labels (fsr-spec §3.6): background levels cam.high_thre / cam.low_thre, cam.par_dilations, cam.par_iters.</summary>
    public static ParLabelOptions Par(FsrConfig c) => new()
    {
        High = (float)c.Cam.HighThre,
        Low = (float)c.Cam.LowThre,
        Dilations = c.Cam.ParDilations,
        Iterations = c.Cam.ParIters,
    };

    /// <summary>The dense-energy regulariser (fsr-spec §6.4): losses.reg_sigma_rgb, reg_sigma_xy, reg_scale, reg_weight.</summary>
    public static DenseEnergyOptions DenseEnergy(FsrConfig c) => new()
    {
        SigmaRgb = (float)c.Losses.RegSigmaRgb,
        SigmaXy = (float)c.Losses.RegSigmaXy,
        Scale = (float)c.Losses.RegScale,
        Weight = (float)c.Losses.RegWeight,
    };

    /// <summary>The FSR losses (fsr-spec §5, §6.5): fsr.student_temp, fsr.center_momentum; the authors' one-way class-token pair.</summary>
    public static FsrLossOptions FsrLoss(FsrConfig c) => new()
    {
        StudentTemperature = (float)c.Fsr.StudentTemp,
        CenterMomentum = (float)c.Fsr.CenterMomentum,
    };
}
