using System.Text.Json;
using FsrNative.Model;
using Xunit;

namespace FsrNative.Tests.Fsr;

[Trait("Category", FsrCategory.Name)]
public sealed class ModelConfigTests
{
    [Fact]
    public void Presets_are_valid_and_describe_the_intended_networks()
    {
        FsrModelConfig.VocVitB16.Validate();
        FsrModelConfig.Synthetic.Validate();
        Assert.Equal(28, FsrModelConfig.VocVitB16.GridSize);
        Assert.Equal(9, FsrModelConfig.VocVitB16.AuxBlockIndex);
        Assert.Equal(20, FsrModelConfig.VocVitB16.NumForegroundClasses);
        Assert.Equal(8, FsrModelConfig.Synthetic.GridSize);
        Assert.Equal(80, FsrModelConfig.CocoVitB16.NumForegroundClasses);
    }

    [Fact]
    public void Reference_arguments_become_the_network_configuration()
    {
        var json = JsonDocument.Parse("""
            {"input_size": 96, "patch_size": 16, "embed_dim": 48, "depth": 4, "num_heads": 4, "mlp_ratio": 4.0, "cls_depth": 2,
             "aux_layer": -3, "num_classes": 5, "proj_hidden": 64, "proj_bottleneck": 32, "out_dim": 128, "dec_channels": 32,
             "drop_path_rate": 0.0, "block_size": 32, "mask_ratio": 0.4, "lr": 6e-05}
            """).RootElement;
        var c = FsrNative.Fsr.Training.FsrModelSettings.Model(FsrNative.Tests.Golden.ScheduleGoldenConfig.From(json));
        Assert.Equal((96, 48, 4, 4, 2, 1, 5, 64, 32, 128, 32, 32), (c.ImageSize, c.EmbedDim, c.Depth, c.NumHeads, c.ClsDepth, c.AuxBlockIndex,
            c.NumClasses, c.ProjHidden, c.ProjBottleneck, c.OutDim, c.DecoderChannels, c.BlockSize));
        Assert.Equal(0f, c.DropPathRate);
        Assert.True(c.QkvBias);
        Assert.Equal(1e-6f, c.NormEps);
    }

    [Fact]
    public void Validate_names_the_inconsistent_field()
    {
        var e = Assert.Throws<ArgumentException>(() => (ModelTestSupport.Tiny with { NumHeads = 5 }).Validate());
        Assert.Contains("EmbedDim", e.Message);
        e = Assert.Throws<ArgumentException>(() => (ModelTestSupport.Tiny with { ClassTokenPooling = ClassTokenPooling.Gap }).Validate());
        Assert.Contains("ClsDepth", e.Message);
        e = Assert.Throws<ArgumentException>(() => (ModelTestSupport.Tiny with { AuxLayer = -4 }).Validate());
        Assert.Contains("AuxLayer", e.Message);
        e = Assert.Throws<ArgumentException>(() => (ModelTestSupport.Tiny with { BlockSize = 12 }).Validate());
        Assert.Contains("BlockSize", e.Message);
    }
}
