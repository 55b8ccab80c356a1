using FsrNative.Fsr.Losses;
using FsrNative.Fsr.Training;
using FsrNative.Model;
using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Training;

[Trait(Categories.Trait, TrainingCategory.Name)]
public class ScheduleTests
{
    static FsrConfig Voc(params ConfigOverride[] extra)
    {
        var c = FsrPresets.Get("voc");
        c.Model.Backbone = "vit_scratch";
        c.Data.Dataset = "synthetic";
        c.Data.NumClasses = 7;
        var dir = TrainingFixture.NewOutFolder();
        string path = Path.Combine(dir, "c.json");
        ConfigLoader.Save(c, path);
        return ConfigLoader.Load(null, path, extra);
    }

    [Fact]
    public void Learning_rate_warms_up_linearly_from_a_tenth_then_follows_a_cosine_per_group()
    {
        var s = new TrainingSchedule(Voc());
        Assert.Equal(0.1, s.LrFactor(0), 15);
        Assert.Equal(0.55, s.LrFactor(750), 15);
        Assert.Equal(1.0, s.LrFactor(1500), 15);
        Assert.Equal(0.5, s.LrFactor(1500 + 9250), 12);
        Assert.Equal(0.5 * (1 + Math.Cos(Math.PI * 18499 / 18500)), s.LrFactor(19999), 15);
        Assert.Equal(s.LrFactor(19999), s.LrFactor(25000));   // the reference stops updating the rate at max_iters
        Assert.Equal([6e-5, 6e-5, 6e-5 * 10, 6e-5 * 10], s.BaseLr);   // args.lr * args.lr_scale, as the reference rounds it
        Assert.Equal([0, 0.05, 0, 0.05], s.WeightDecay);
        var lr = s.GroupLr(750);
        for (int g = 0; g < 4; g++) Assert.Equal(s.BaseLr[g] * 0.55, lr[g], 1e-18);
    }

    [Fact]
    public void Ema_momentum_rises_along_a_cosine_to_one_and_stays_there_after_fsr_iters()
    {
        var s = new TrainingSchedule(Voc());
        Assert.Equal(0.9995, s.MomentumAt(0), 15);
        Assert.Equal(1 - 0.5 * 0.0005, s.MomentumAt(10000), 15);
        Assert.Equal(1 - 0.5 * 0.0005 * (1 + Math.Cos(Math.PI * 19999 / 20000)), s.MomentumAt(19999), 15);
        var short_ = new TrainingSchedule(Voc(new ConfigOverride("fsr.fsr_iters", "10000", "t")));
        Assert.Equal(1 - 0.5 * 0.0005 * (1 + Math.Cos(Math.PI * 5000 / 10000)), short_.MomentumAt(5000), 15);
        Assert.Equal(1.0, short_.MomentumAt(10000));
        Assert.Equal((0.0, 0.0), (short_.WeightsAt(10000).FsrClass, short_.WeightsAt(10000).FsrPatch));
        Assert.Equal((0.1, 0.1), (short_.WeightsAt(9999).FsrClass, short_.WeightsAt(9999).FsrPatch));
    }

    [Fact]
    public void Teacher_temperature_ramps_endpoint_inclusive_over_max_iters_over_8()
    {
        var s = new TrainingSchedule(Voc());
        Assert.Equal(0.04, s.TeacherTemperatureAt(0), 15);
        Assert.Equal(0.04 + 0.03 * 1249 / 2499, s.TeacherTemperatureAt(1249), 15);
        Assert.Equal(0.07, s.TeacherTemperatureAt(2499), 15);   // np.linspace reaches the end value at W − 1
        Assert.Equal(0.07, s.TeacherTemperatureAt(2500), 15);
        Assert.Equal(0.07, s.TeacherTemperatureAt(19999), 15);
    }

    [Fact]
    public void Loss_stages_and_mask_strategy_switch_on_the_step_as_the_reference_compares_it()
    {
        var s = new TrainingSchedule(Voc());
        Assert.Equal(new LossWeights(1, 0.1, 0.1, 0.2, 0, 0), s.WeightsAt(1999));    // step 2000: not yet
        Assert.Equal(new LossWeights(1, 0.1, 0.1, 0.2, 0.1, 0.05), s.WeightsAt(2000)); // step 2001 > 2000
        Assert.Equal(MaskStrategy.Random, s.MaskStrategyAt(3999));                   // step 4000 ≤ 20000 // 5
        Assert.Equal(MaskStrategy.Uncertain, s.MaskStrategyAt(4000));
        Assert.Equal(MaskStrategy.Random, new TrainingSchedule(Voc(new ConfigOverride("mask.strategy", "random", "t"))).MaskStrategyAt(15000));
        var off = new TrainingSchedule(Voc(new ConfigOverride("mask.enabled", "false", "t")));
        Assert.Equal(MaskStrategy.None, off.MaskStrategyAt(15000));
        Assert.Equal(0, off.WeightsAt(15000).FsrPatch);

        var coco = FsrPresets.Get("coco");
        coco.Model.Backbone = "vit_scratch"; coco.Data.Dataset = "synthetic"; coco.Data.NumClasses = 7;
        ConfigResolver.Resolve(coco);
        var c = new TrainingSchedule(coco);
        Assert.Equal((0.0, 0.0, 0.0), (c.WeightsAt(7999).Aff, c.WeightsAt(7999).Seg, c.WeightsAt(7999).Reg));
        Assert.Equal((0.0, 0.1, 0.05), (c.WeightsAt(8000).Aff, c.WeightsAt(8000).Seg, c.WeightsAt(8000).Reg));
        Assert.Equal(0.2, c.WeightsAt(12000).Aff);
        Assert.Equal(0.0, c.WeightsAt(11999).Aff);
        Assert.Equal(MaskStrategy.Uncertain, c.MaskStrategyAt(16000));
        Assert.Equal(MaskStrategy.Random, c.MaskStrategyAt(15999));
    }

    [Fact]
    public void At_bundles_every_value_of_one_iteration()
    {
        var s = new TrainingSchedule(Voc());
        var v = s.At(2000);
        Assert.Equal((2000L, 2001L), (v.Iteration, v.Step));
        Assert.Equal(s.GroupLr(2000), v.GroupLr);
        Assert.Equal(s.MomentumAt(2000), v.Momentum);
        Assert.Equal(s.TeacherTemperatureAt(2000), v.TeacherTemperature);
        Assert.Equal(s.WeightsAt(2000), v.Weights);
        Assert.Equal(MaskStrategy.Random, v.MaskStrategy);
        Assert.Throws<ArgumentOutOfRangeException>(() => s.At(-1));
    }

    [Fact]
    public void Param_groups_are_the_four_groups_of_spec_section_7()
    {
        var c = TrainingFixture.Config(TrainingFixture.NewOutFolder());
        using var step = new StandInStep(c);
        var schedule = new TrainingSchedule(c);
        var groups = FsrParamGroups.Build(step.Parameters, schedule);
        Assert.Equal(TrainingSchedule.GroupNames, groups.Select(g => g.name));
        var s = step.Student;
        Assert.Equal([s.mask_token, s.Encoder.bias!], groups[0].Parameters);    // the no-decay token + 1-D (module order)
        Assert.Equal([s.Encoder.weight], groups[1].Parameters);
        Assert.Equal([s.Head.bias!], groups[2].Parameters);
        Assert.Equal([s.Head.weight], groups[3].Parameters);
        Assert.Equal([c.Optim.Lr, c.Optim.Lr, c.Optim.Lr * c.Optim.LrScale, c.Optim.Lr * c.Optim.LrScale], groups.Select(g => g.lr));
        Assert.Equal([0, c.Optim.WeightDecay, 0, c.Optim.WeightDecay], groups.Select(g => g.weight_decay));
        // A split without head biases still gives four groups (group 2 empty), so lr[g] always means the same group.
        var noHeadBias = new FsrParameterSplit(step.Parameters.Encoder, step.Parameters.EncoderNoDecay, [("head.weight", s.Head.weight)]);
        var g4 = FsrParamGroups.Build(noHeadBias, schedule);
        Assert.Equal(4, g4.Count);
        Assert.Empty(g4[2].Parameters);
    }
}
