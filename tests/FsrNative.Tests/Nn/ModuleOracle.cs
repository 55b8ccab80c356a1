using FsrNative.Nn;
using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Nn;

using TT = TorchSharp.torch.Tensor;
using ts = TorchSharp.torch;

/// <summary>
/// The "Nn" test category: the module system itself (registration, state dicts, modes, devices, freezing),
/// initialisers and the layers' own rules. Layer-vs-libtorch comparisons are in the Oracle category.
/// </summary>
public static class NnCategory
{
    public const string Name = "Nn";
}

/// <summary>
/// Compares one of our modules with a libtorch twin holding the same weights: the forward output, the input's
/// gradient and every parameter's gradient, after one backward pass with the same random output gradient.
/// The twin is a TorchSharp torch.nn module (weights copied in by state-dict name) or a function of the weights
/// (TorchSharp leaves made from our state dict) — for layers TorchSharp does not have in timm's layout.
/// </summary>
public static class ModuleOracle
{
    public static readonly Tolerance Forward = new(1e-5, 1e-4);
    public static readonly Tolerance Backward = new(1e-5, 1e-4);

    public static TT ToTorch(Tensor t, bool requiresGrad = false)
    {
        Torch.EnsureInitialized();
        var tt = ts.tensor(t.contiguous().ToArray(), t.shape.Select(d => (long)d).ToArray(), ts.ScalarType.Float32);
        if (requiresGrad) tt.requires_grad_(true);
        return tt;
    }

    /// <summary>Fills every parameter of <paramref name="m"/> with N(0, std²) values (so ones/zeros inits do not
    /// hide wrong gradients), deterministically from <paramref name="seed"/>.</summary>
    public static void Randomize(Module m, ulong seed, float std = 0.5f)
    {
        ulong s = seed;
        using (torch.no_grad())
            foreach (var (_, p) in m.named_parameters())
            {
                using var v = torch.tensor(TestRandom.Normal(s++, p.numel(), 0f, std), p.shape);
                p.copy_(v);
            }
    }

    /// <summary>Against a TorchSharp module whose parameter names equal our state-dict names.</summary>
    public static void CheckAgainstModule(string what, Module<Tensor, Tensor> ours, ts.nn.Module<TT, TT> theirs, int[] inputShape,
        Tolerance? fwd = null, Tolerance? bwd = null, ulong seed = 1)
    {
        Torch.EnsureInitialized();
        var theirParams = theirs.named_parameters().ToDictionary(p => p.name, p => (TT)p.parameter);
        var ourState = ours.state_dict();
        var extra = theirParams.Keys.Except(ourState.Keys).Concat(ourState.Keys.Except(theirParams.Keys)).ToList();
        if (extra.Count > 0) throw new Xunit.Sdk.XunitException($"{what}: parameter names differ between the modules: {string.Join(", ", extra)}");
        using (ts.no_grad())
            foreach (var (name, p) in theirParams)
                using (var v = ToTorch(ourState[name])) p.copy_(v);
        Run(what, ours, theirParams, theirs.forward, inputShape, fwd, bwd, seed);
    }

    /// <summary>Against <paramref name="theirs"/>(weights by our state-dict names, input).</summary>
    public static void CheckAgainstFunction(string what, Module<Tensor, Tensor> ours, Func<IReadOnlyDictionary<string, TT>, TT, TT> theirs,
        int[] inputShape, Tolerance? fwd = null, Tolerance? bwd = null, ulong seed = 1)
    {
        Torch.EnsureInitialized();
        var leaves = ours.named_parameters().ToDictionary(p => p.name, p => ToTorch(p.parameter, p.parameter.requires_grad));
        foreach (var (name, b) in ours.named_buffers()) leaves[name] = ToTorch(b);
        Run(what, ours, leaves, x => theirs(leaves, x), inputShape, fwd, bwd, seed);
    }

    static void Run(string what, Module<Tensor, Tensor> ours, IReadOnlyDictionary<string, TT> theirParams, Func<TT, TT> theirForward,
        int[] inputShape, Tolerance? fwd, Tolerance? bwd, ulong seed)
    {
        var f = fwd ?? Forward;
        var b = bwd ?? Backward;
        using var tsScope = ts.NewDisposeScope();
        using var scope = torch.NewDisposeScope();
        ours.zero_grad();
        var data = TestRandom.Normal(seed, TestRandom.Numel(inputShape));
        var x = torch.tensor(data, inputShape, requires_grad: true);
        var tx = ts.tensor(data, inputShape.Select(d => (long)d).ToArray(), ts.ScalarType.Float32, requires_grad: true);

        var y = ours.forward(x);
        var ty = theirForward(tx);
        Assert.Equal(Torch.Shape(ty), y.shape);
        AssertClose(Torch.ToArray(ty), y.ToArray(), f, $"{what} forward", y.shape);

        var g = TestRandom.Normal(seed ^ 0x5EED, y.numel());
        y.backward(torch.tensor(g, y.shape));
        ts.autograd.backward([ty], [ts.tensor(g, ty.shape, ts.ScalarType.Float32)]);

        AssertClose(Torch.ToArray(tx.grad!), x.grad!.ToArray(), b, $"{what} input gradient", x.shape);
        foreach (var (name, p) in ours.named_parameters())
        {
            var theirGrad = theirParams[name].grad;
            if (!p.requires_grad)
            {
                Assert.Null(p.grad);
                continue;
            }
            Assert.True(p.grad is not null, $"{what}: parameter {name} got no gradient");
            Assert.True(theirGrad is not null, $"{what}: torch parameter {name} got no gradient");
            AssertClose(Torch.ToArray(theirGrad!), p.grad!.ToArray(), b, $"{what} gradient of {name}", p.shape);
        }
        ours.zero_grad();
    }

    static void AssertClose(float[] expected, float[] actual, Tolerance tol, string what, int[] shape)
    {
        var report = Close.Compare(expected, actual, tol.Atol, tol.Rtol, what, shape);
        if (report is not null) throw new Xunit.Sdk.XunitException(report);
    }
}
