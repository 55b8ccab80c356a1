using FsrNative.Nn;
using FsrNative.Optim;
using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Optim;

/// <summary>The "Optim" test category: optimiser state, device paths, EMA and schedules against their formulas.</summary>
public static class OptimCategory
{
    public const string Name = "Optim";
}

[Trait(Categories.Trait, OptimCategory.Name)]
public class OptimizerTests
{
    static List<Tensor> Params(ulong seed, Device? device = null, params int[][] shapes)
    {
        var list = new List<Tensor>();
        foreach (var s in shapes)
            list.Add(torch.tensor(TestRandom.Normal(seed++, TestRandom.Numel(s)), s, device, requires_grad: true).DetachFromDisposeScope());
        return list;
    }

    static void Grads(List<Tensor> ps, int step)
    {
        using var scope = torch.NewDisposeScope();
        for (int i = 0; i < ps.Count; i++)
        {
            var c = ps[i].detach().mul(0.1f).add(torch.tensor(TestRandom.Normal((ulong)(500 + 10 * step + i), ps[i].numel()), ps[i].shape, ps[i].device));
            ps[i].mul(c).sum().backward();
        }
    }

    static Optimizer Make(string kind, List<Tensor> ps) => kind == "adamw"
        ? new AdamW([new ParamGroup(ps.Take(1), lr: 1e-2, weight_decay: 0), new ParamGroup(ps.Skip(1), lr: 2e-2)], weight_decay: 0.05, amsgrad: true)
        : new SGD([new ParamGroup(ps.Take(1), lr: 1e-2), new ParamGroup(ps.Skip(1), lr: 2e-2, momentum: 0.5)], lr: 1e-2, momentum: 0.9, weight_decay: 1e-3, nesterov: false);

    static readonly int[][] Shapes = [[4, 9], [1000], [3]];

    [Theory]
    [InlineData("adamw")]
    [InlineData("sgd")]
    public void StateDictResumeIsBitIdentical(string kind)
    {
        var a = Params(1, null, Shapes);
        var optA = Make(kind, a);
        for (int s = 0; s < 10; s++) { optA.zero_grad(); Grads(a, s); optA.step(); }

        // Resume: copies of the parameters and a new optimiser loaded from the state dict.
        var b = a.Select(p => p.detach().clone().requires_grad_(true).DetachFromDisposeScope()).ToList();
        var optB = Make(kind, b);
        optB.param_groups[0].lr = 123;   // overwritten by the load
        optB.load_state_dict(optA.state_dict());
        Assert.Equal(optA.param_groups[0].lr, optB.param_groups[0].lr);
        for (int s = 10; s < 20; s++)
        {
            optA.zero_grad(); Grads(a, s); optA.step();
            optB.zero_grad(); Grads(b, s); optB.step();
        }
        for (int i = 0; i < a.Count; i++) Assert.Equal(a[i].ToArray(), b[i].ToArray());
        Assert.Equal(20, optB.state(b[1])!.step);
        optA.Dispose(); optB.Dispose();
    }

    [Fact]
    public void LoadStateDictRejectsAMismatchedStateAndChangesNothing()
    {
        var a = Params(1, null, Shapes);
        var opt = Make("adamw", a);
        opt.zero_grad(); Grads(a, 0); opt.step();
        var other = Params(1, null, [4, 9], [999], [3]);
        var optOther = Make("adamw", other);
        var e = Assert.Throws<ArgumentException>(() => optOther.load_state_dict(opt.state_dict()));
        Assert.Contains("parameter 1", e.Message);
        Assert.Contains("[999]", e.Message);
        Assert.Null(optOther.state(other[0]));
        var sgd = Make("sgd", Params(1, null, Shapes));
        Assert.Contains("AdamW", Assert.Throws<ArgumentException>(() => sgd.load_state_dict(opt.state_dict())).Message);
    }

    [Theory]
    [InlineData("adamw")]
    [InlineData("sgd")]
    public void ComposedDevicePathMatchesTheFusedCpuLoop(string kind)
    {
        var cpu = Params(3, null, Shapes);
        var dev = Params(3, Device.IlgpuCpu, Shapes);
        var optCpu = Make(kind, cpu);
        var optDev = Make(kind, dev);
        for (int s = 0; s < 5; s++)
        {
            optCpu.zero_grad(); Grads(cpu, s); optCpu.step();
            optDev.zero_grad(); Grads(dev, s); optDev.step();
        }
        for (int i = 0; i < cpu.Count; i++)
            Close.AssertClose(cpu[i].ToArray(), dev[i].ToArray(), new Tolerance(1e-7, 1e-6), $"{kind} parameter {i} on ilgpu-cpu");
    }

    [Theory]
    [InlineData("adamw")]
    [InlineData("sgd")]
    public void ACpuStepCreatesNoTensors(string kind)
    {
        var ps = Params(5, null, Shapes);
        var opt = Make(kind, ps);
        Grads(ps, 0);
        opt.step();                                    // the first step allocates the state
        Grads(ps, 1);
        using var scope = torch.NewDisposeScope();
        int versionBefore = ps[1].Storage.Version;
        opt.step();
        Assert.Equal(0, scope.Count);
        Assert.True(ps[1].Storage.Version > versionBefore);   // host writes are visible to autograd's version checks
    }

    [Fact]
    public void ParametersInTwoGroupsAreRejected()
    {
        var ps = Params(1, null, [3]);
        Assert.Throws<ArgumentException>(() => new AdamW([new ParamGroup(ps), new ParamGroup(ps)]));
        Assert.Throws<ArgumentException>(() => new SGD(ps, lr: 0.1, nesterov: true));
    }

    [Fact]
    public void LargeTensorsTakeTheThreadedPathWithTheSameResult()
    {
        // 600K elements: split into 64K chunks across threads; must equal the same update done on one small piece.
        var big = Params(9, null, [600_000]);
        var small = new List<Tensor> { big[0].narrow(0, 131072, 1000).detach().clone().requires_grad_(true).DetachFromDisposeScope() };
        var ob = new AdamW(big, lr: 1e-2);
        var os = new AdamW(small, lr: 1e-2);
        using (var scope = torch.NewDisposeScope())
        {
            var g = torch.tensor(TestRandom.Normal(77, 600_000), [600_000]);
            big[0].mul(g).sum().backward();
            small[0].mul(g.narrow(0, 131072, 1000)).sum().backward();
        }
        ob.step(); os.step();
        Assert.Equal(small[0].ToArray(), big[0].narrow(0, 131072, 1000).ToArray());
    }

    // ---- EMA ---------------------------------------------------------------------------------------------------

    [Fact]
    public void EmaFollowsItsFormulaAndTheEndpoints()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(1);
        using var student = new Mlp(6, 8);
        torch.manual_seed(2);
        using var teacher = new Mlp(6, 8);
        teacher.requires_grad_(false);
        var t0 = teacher.fc1.weight.ToArray();
        var s0 = student.fc1.weight.ToArray();
        Ema.update_(teacher, student, 0.9995);
        var t1 = teacher.fc1.weight.ToArray();
        for (int i = 0; i < t0.Length; i++)
            Assert.Equal(t0[i] * 0.9995f + s0[i] * (float)(1 - 0.9995), t1[i]);
        Ema.update_(teacher, student, 1.0);
        Assert.Equal(t1, teacher.fc1.weight.ToArray());
        Ema.update_(teacher, student, 0.0);
        Assert.Equal(s0, teacher.fc1.weight.ToArray());
        Assert.False(teacher.fc1.weight.requires_grad);

        using var other = new Mlp(6, 9);
        Assert.Throws<ArgumentException>(() => Ema.update_(other, student, 0.5));
    }

    [Fact]
    public void EmaCopyMakesAFrozenTwin()
    {
        using var student = new VisionTransformer(new VitConfig { ImgSize = 16, PatchSize = 8, EmbedDim = 8, Depth = 1, NumHeads = 2, NumClasses = 0 });
        using var teacher = new VisionTransformer(new VitConfig { ImgSize = 16, PatchSize = 8, EmbedDim = 8, Depth = 1, NumHeads = 2, NumClasses = 0 });
        Ema.copy_(teacher, student);
        Assert.All(teacher.parameters(), p => Assert.False(p.requires_grad));
        foreach (var ((_, a), (_, b)) in teacher.named_parameters().Zip(student.named_parameters())) Assert.Equal(b.ToArray(), a.ToArray());
    }

    // ---- schedules ---------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(750)]
    [InlineData(1499)]
    [InlineData(1500)]
    [InlineData(1501)]
    [InlineData(10750)]
    [InlineData(19999)]
    public void WarmupCosineIsFsrSpecSection7(long s)
    {
        var sched = new WarmupCosineSchedule(1500, 0.1, 20000);
        double expected = s < 1500 ? 0.1 + 0.9 * s / 1500 : 0.5 * (1 + Math.Cos(Math.PI * (s - 1500) / (20000 - 1500)));
        Assert.Equal(expected, sched.Factor(s), 1e-14);
    }

    [Fact]
    public void WarmupCosineEndpointsAndClamping()
    {
        var sched = new WarmupCosineSchedule(1500, 0.1, 20000);
        Assert.Equal(0.1, sched.Factor(0), 1e-15);
        Assert.Equal(1.0, sched.Factor(1500), 1e-15);
        Assert.Equal(0.5, sched.Factor(1500 + 9250), 1e-12);
        Assert.Equal(sched.Factor(19999), sched.Factor(20000));
        Assert.Equal(sched.Factor(19999), sched.Factor(50000));
        Assert.True(sched.Factor(19999) is > 0 and < 1e-7);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    [InlineData(1500)]
    [InlineData(12345)]
    public void WarmupPolyIsTocosFormula(long s)
    {
        var sched = new WarmupPolySchedule(1500, 1e-6, 20000, 0.9);
        double expected = s < 1500 ? 1 - (1 - s / 1500.0) * (1 - 1e-6) : Math.Pow(1 - s / 20000.0, 0.9);
        Assert.Equal(expected, sched.Factor(s), 1e-15);
    }

    [Fact]
    public void CosineMomentumIsFsrSpecSection4()
    {
        var m = new CosineMomentumSchedule(0.9995, 1.0, 20000);
        foreach (long it in new long[] { 0, 1, 5000, 10000, 19999, 20000 })
            Assert.Equal(1 - 0.5 * (1 - 0.9995) * (1 + Math.Cos(Math.PI * it / 20000)), m.Value(it), 1e-15);
        Assert.Equal(0.9995, m.Value(0), 1e-15);
        Assert.Equal(1.0, m.Value(20000), 1e-15);
        Assert.Equal(0.99975, m.Value(10000), 1e-15);
    }

    [Fact]
    public void TeacherTemperatureIsFsrSpecSection5()
    {
        var tau = new LinearRampSchedule(0.04, 0.07, 2500);
        Assert.Equal(0.04, tau.Value(0), 1e-15);
        Assert.Equal(0.04 + 0.03 * 1000 / 2499.0, tau.Value(1000), 1e-15);
        Assert.Equal(0.07, tau.Value(2499), 1e-15);
        Assert.Equal(0.07, tau.Value(2500), 1e-15);
        Assert.Equal(0.07, tau.Value(19999), 1e-15);
    }

    [Fact]
    public void DecaySplitFollowsFsrSpecSection7()
    {
        using var vit = new VisionTransformer(new VitConfig { ImgSize = 16, PatchSize = 8, EmbedDim = 8, Depth = 1, NumHeads = 2, NumClasses = 0 });
        using var wn = new WeightNormLinear(8, 16);
        var groups = ParamGroups.decay_split(vit, 6e-5, 0.05, noDecay: ["pos_embed", "cls_token"]);
        Assert.Equal(2, groups.Count);
        var plain = groups[0].Parameters.Select(p => p.Name).ToList();
        Assert.Contains("pos_embed", plain);
        Assert.Contains("cls_token", plain);
        Assert.Contains("bias", plain);
        Assert.Equal(0, groups[0].weight_decay);
        Assert.All(groups[1].Parameters, p => Assert.True(p.dim() > 1 && p.Name is "weight"));
        Assert.Equal(0.05, groups[1].weight_decay);
        // The weight-norm gain (4096×1 in FSR) is 2-D: decay group, frozen, so the optimiser skips it.
        var head = ParamGroups.decay_split(wn, 6e-4, 0.05, namePrefix: "head.");
        Assert.Single(head);
        Assert.Equal("head.decay", head[0].name);
        Assert.Contains(head[0].Parameters, p => p.Name == "weight_g" && !p.requires_grad);
    }

    [Fact]
    public void ClipGradNormOnAnotherDeviceMatchesTheCpu()
    {
        var cpu = Params(4, null, Shapes);
        var dev = Params(4, Device.IlgpuCpu, Shapes);
        Grads(cpu, 0); Grads(dev, 0);
        double a = GradClip.clip_grad_norm_(cpu, 0.3), b = GradClip.clip_grad_norm_(dev, 0.3);
        Assert.Equal(a, b, a * 1e-6);
        for (int i = 0; i < cpu.Count; i++) Close.AssertClose(cpu[i].grad!.ToArray(), dev[i].grad!.ToArray(), new Tolerance(1e-7, 1e-6), $"clipped {i}");
        double inf = GradClip.clip_grad_norm_(dev, 1e9, double.PositiveInfinity);
        Assert.Equal(cpu.Max(p => p.grad!.ToArray().Max(Math.Abs)), inf, 1e-6);
    }

    [Fact]
    public void LrSchedulerScalesEachGroupsBaseRate()
    {
        var ps = Params(1, null, [2], [3]);
        var opt = new AdamW([new ParamGroup(ps.Take(1), lr: 6e-5), new ParamGroup(ps.Skip(1), lr: 6e-4)]);
        var sched = new LRScheduler(opt, new WarmupCosineSchedule(1500, 0.1, 20000));
        sched.set_step(0);
        Assert.Equal([6e-6, 6e-5], sched.get_last_lr(), new ToleranceComparer(1e-18));
        sched.set_step(1500);
        Assert.Equal([6e-5, 6e-4], sched.get_last_lr(), new ToleranceComparer(1e-18));
        sched.step();
        Assert.Equal(1501, sched.last_step);
        Assert.Equal(6e-4 * 0.5 * (1 + Math.Cos(Math.PI / 18500)), opt.param_groups[1].lr, 1e-18);
    }

    sealed class ToleranceComparer(double tol) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tol;
        public int GetHashCode(double obj) => 0;
    }
}
