using FsrNative.Optim;
using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Optim;

using TT = TorchSharp.torch.Tensor;
using ts = TorchSharp.torch;
using TParam = TorchSharp.Modules.Parameter;

/// <summary>
/// AdamW, SGD and clip_grad_norm_ against libtorch's (TorchSharp's torch.optim) over 20 steps with two parameter
/// groups of their own learning rate and weight decay, a rate changed between steps, a frozen parameter and one
/// without a gradient. Each step's gradient is c = 0.1·θ + noise(step), fed through loss = Σ θ·c so both engines
/// see bit-identical gradients for identical parameters; parameters must agree to 1e-6 relative after every step
/// (relative to the parameters' scale, which is 1: atol 1e-7). SGD agrees bit for bit. TorchSharp's AdamW writes the
/// first moment in PyTorch 1.x's form (m·β₁ + (1−β₁)·g, not torch 2's lerp); both our forms stay within an ulp or
/// two of it (about 2% of elements differ by one ulp even in the legacy form, from libtorch's own kernels).
/// </summary>
[Trait(Categories.Trait, Categories.Oracle)]
public class OptimizerOracleTests
{
    static readonly int[][] Shapes = [[5, 7], [5], [3, 5], [300]];   // [300]: more than one vector width, odd tail
    static readonly Tolerance Tol = new(1e-7, 1e-6);
    static readonly Tolerance Exact = new(0, 0);

    sealed class Pair
    {
        public readonly List<Tensor> Ours = new();
        public readonly List<TParam> Theirs = new();

        public Pair(ulong seed)
        {
            Torch.EnsureInitialized();
            for (int i = 0; i < Shapes.Length; i++)
            {
                var v = TestRandom.Normal(seed + (ulong)i, TestRandom.Numel(Shapes[i]));
                Ours.Add(torch.tensor(v, Shapes[i], requires_grad: true).DetachFromDisposeScope());
                Theirs.Add(new TParam(ts.tensor(v, Shapes[i].Select(d => (long)d).ToArray(), ts.ScalarType.Float32)));
            }
        }

        /// <summary>Backward of Σ θ·c for every parameter but <paramref name="skip"/> (which keeps no gradient).</summary>
        public void Gradients(int step, int skip)
        {
            using var scope = torch.NewDisposeScope();
            using var tsScope = ts.NewDisposeScope();
            for (int i = 0; i < Ours.Count; i++)
            {
                if (i == skip) { Theirs[i].grad = null; continue; }   // TorchSharp's zero_grad zeroes in place; torch's default is None
                var noise = TestRandom.Normal(1000 + (ulong)(step * 10 + i), Ours[i].numel());
                var c = Ours[i].detach().mul(0.1f).add(torch.tensor(noise, Ours[i].shape));
                if (Ours[i].requires_grad) Ours[i].mul(c).sum().backward();
                var tc = Theirs[i].detach().mul(0.1f).add(ts.tensor(noise, Theirs[i].shape, ts.ScalarType.Float32));
                if (Theirs[i].requires_grad) Theirs[i].mul(tc).sum().backward();
            }
        }

        public Tolerance Tolerance { get; set; } = Tol;

        public void AssertClose(string what)
        {
            for (int i = 0; i < Ours.Count; i++)
            {
                var report = Close.Compare(Torch.ToArray(Theirs[i]), Ours[i].ToArray(), Tolerance.Atol, Tolerance.Rtol, $"{what}: parameter {i}", Ours[i].shape);
                if (report is not null) throw new Xunit.Sdk.XunitException(report);
            }
        }

        public void Freeze(int i)
        {
            Ours[i].requires_grad = false;
            Theirs[i].requires_grad_(false);
        }
    }

    [Theory]
    [InlineData(false, false, false)]
    [InlineData(true, false, false)]
    [InlineData(false, true, false)]
    [InlineData(false, false, true)]
    [InlineData(true, true, true)]
    public void AdamWMatchesTorch(bool amsgrad, bool maximize, bool legacy)
    {
        var pair = new Pair(1);
        pair.Freeze(1);
        var ours = new AdamW(
            [new ParamGroup([pair.Ours[0], pair.Ours[1]], lr: 1e-2, weight_decay: 0), new ParamGroup([pair.Ours[2], pair.Ours[3]], lr: 3e-2, weight_decay: 0.05)],
            lr: 5e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.01, amsgrad: amsgrad, maximize: maximize, legacyFirstMoment: legacy);
        var theirs = ts.optim.AdamW(
            [new TorchSharp.Modules.AdamW.ParamGroup([pair.Theirs[0], pair.Theirs[1]], new TorchSharp.Modules.AdamW.Options { LearningRate = 1e-2, weight_decay = 0 }),
             new TorchSharp.Modules.AdamW.ParamGroup([pair.Theirs[2], pair.Theirs[3]], new TorchSharp.Modules.AdamW.Options { LearningRate = 3e-2, weight_decay = 0.05 })],
            5e-3, 0.9, 0.999, 1e-8, 0.01, amsgrad, maximize);
        Run(pair, ours, theirs.zero_grad, () => theirs.step(), (g, lr) => theirs.ParamGroups.ElementAt(g).LearningRate = lr);
        ours.Dispose();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SgdMatchesTorch(bool nesterov)
    {
        var pair = new Pair(2);
        pair.Freeze(1);
        pair.Tolerance = Exact;
        double damp = nesterov ? 0 : 0.2;
        var ours = new SGD(
            [new ParamGroup([pair.Ours[0], pair.Ours[1]], lr: 1e-2, weight_decay: 0, momentum: 0.9), new ParamGroup([pair.Ours[2], pair.Ours[3]], lr: 3e-2, weight_decay: 0.05)],
            lr: 5e-3, momentum: 0.5, dampening: damp, weight_decay: 0.01, nesterov: nesterov);
        var theirs = ts.optim.SGD(
            [new TorchSharp.Modules.SGD.ParamGroup([pair.Theirs[0], pair.Theirs[1]], new TorchSharp.Modules.SGD.Options { LearningRate = 1e-2, weight_decay = 0, momentum = 0.9 }),
             new TorchSharp.Modules.SGD.ParamGroup([pair.Theirs[2], pair.Theirs[3]], new TorchSharp.Modules.SGD.Options { LearningRate = 3e-2, weight_decay = 0.05 })],
            5e-3, 0.5, damp, 0.01, nesterov, false);
        Run(pair, ours, theirs.zero_grad, () => theirs.step(), (g, lr) => theirs.ParamGroups.ElementAt(g).LearningRate = lr);
        ours.Dispose();
    }

    [Fact]
    public void PlainSgdWithoutMomentumMatchesTorch()
    {
        var pair = new Pair(3);
        pair.Tolerance = Exact;
        var ours = new SGD(pair.Ours, lr: 0.1);
        var theirs = ts.optim.SGD(pair.Theirs, 0.1);
        Run(pair, ours, theirs.zero_grad, () => theirs.step(), (g, lr) => theirs.ParamGroups.ElementAt(g).LearningRate = lr);
        ours.Dispose();
    }

    static void Run(Pair pair, Optimizer ours, Action theirZeroGrad, Action theirStep, Action<int, double> setTheirLr)
    {
        bool frozen = !pair.Ours[1].requires_grad;
        var frozenBefore = pair.Ours[1].ToArray();
        for (int step = 0; step < 20; step++)
        {
            if (step == 10)
                for (int g = 0; g < ours.param_groups.Count; g++)
                {
                    double lr = ours.param_groups[g].lr * 0.5;
                    ours.param_groups[g].lr = lr;
                    setTheirLr(g, lr);
                }
            ours.zero_grad();
            theirZeroGrad();
            pair.Gradients(step, skip: step % 7 == 3 ? 3 : -1);   // now and then a parameter without a gradient
            ours.step();
            theirStep();
            pair.AssertClose($"{ours.GetType().Name} step {step}");
        }
        if (!frozen) return;
        Assert.Equal(frozenBefore, pair.Ours[1].ToArray());   // frozen: no decay either
        Assert.Null(ours.state(pair.Ours[1]));
    }

    [Theory]
    [InlineData(0.5, 2.0)]      // clips
    [InlineData(1e3, 2.0)]      // does not clip
    [InlineData(0.5, double.PositiveInfinity)]
    [InlineData(0.5, 1.0)]
    public void ClipGradNormMatchesTorch(double maxNorm, double normType)
    {
        var pair = new Pair(4);
        pair.Gradients(0, skip: 2);
        double ourNorm = GradClip.clip_grad_norm_(pair.Ours, maxNorm, normType);
        double theirNorm = ts.nn.utils.clip_grad_norm_(pair.Theirs, maxNorm, normType);
        Assert.Equal(theirNorm, ourNorm, theirNorm * 1e-6);
        for (int i = 0; i < pair.Ours.Count; i++)
        {
            if (i == 2) { Assert.Null(pair.Ours[i].grad); continue; }
            var report = Close.Compare(Torch.ToArray(pair.Theirs[i].grad!), pair.Ours[i].grad!.ToArray(), 1e-8, 1e-6, $"clipped gradient {i}");
            if (report is not null) throw new Xunit.Sdk.XunitException(report);
        }
    }
}
