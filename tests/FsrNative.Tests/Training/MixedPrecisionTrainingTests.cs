using FsrNative.Fsr.Cli;
using FsrNative.Fsr.Training;
using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Training;

/// <summary>
/// optim.mixed_precision / --precision: the default is fp32, bf16 is accepted, anything else is an error naming the
/// setting and the value; the FSR step with bf16 computes the same terms, close to but not equal to fp32 (the network
/// passes ran under autocast), and leaves autocast off behind it; parameters and gradients stay Float32.
/// </summary>
[Trait(Categories.Trait, TrainingCategory.Name)]
public class MixedPrecisionTrainingTests
{
    [Fact]
    public void Setting_defaults_to_fp32_accepts_bf16_and_names_bad_values()
    {
        Assert.Equal("fp32", ConfigLoader.Load("synthetic", null, []).Optim.MixedPrecision);
        Assert.Equal("fp32", ConfigLoader.Load("voc", null, [new("data.root", ".", "t"), new("model.backbone", "vit_scratch", "t")]).Optim.MixedPrecision);
        Assert.Equal("bf16", ConfigLoader.Load("synthetic", null, [new("optim.mixed_precision", "bf16", "--precision bf16")]).Optim.MixedPrecision);
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load("synthetic", null, [new("optim.mixed_precision", "fp16", "--precision fp16")]));
        Assert.Contains("optim.mixed_precision = \"fp16\": expected fp32 or bf16", e.Message);
        Assert.Contains(new ConfigOptions().Named, n => n.option.Name == "--precision" && n.path == "optim.mixed_precision");
    }

    [Fact]
    public void Bf16_step_is_close_to_fp32_and_keeps_float32_state()
    {
        var fp32 = FsrTrainingStepTests.Config();
        var bf16 = FsrTrainingStepTests.Config(4, ("optim.mixed_precision", "bf16"));
        Dictionary<string, double> Run(FsrConfig c, out float[] grad)
        {
            using var step = new FsrTrainingStep(c, Device.CPU);
            using var batch = FsrTrainingStepTests.RandomBatch(c, 1);
            using var scope = torch.NewDisposeScope();
            var r = step.Step(batch, FsrTrainingStepTests.Context(c, 0, new Generator(3)));
            Assert.False(torch.is_autocast_enabled());
            r.Loss.backward();
            var w = step.Student.encoder.patch_embed.proj.weight;
            Assert.Equal(DType.Float32, w.grad!.DType);
            grad = w.grad.ToArray();
            return new Dictionary<string, double>(r.Terms);
        }
        var a = Run(fp32, out var gradA);
        var b = Run(bf16, out var gradB);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var (k, v) in a) Assert.True(Math.Abs(v - b[k]) <= 2e-2 * Math.Abs(v) + 1e-4, $"{k}: fp32 {v}, bf16 {b[k]}");
        Assert.NotEqual(gradA, gradB);
    }
}
