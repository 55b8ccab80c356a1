using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Engine;

/// <summary>
/// The autograd engine's semantics, PyTorch's: accumulation into .grad, zero_grad by setting grad = null, no_grad,
/// detach, retain_graph and the "backward twice" error, the in-place-after-save version error, requires_grad rules.
/// </summary>
[Trait(Categories.Trait, EngineCategory.Name)]
public class AutogradTests
{
    static Tensor Leaf(params float[] values) => torch.tensor(values, [values.Length], requires_grad: true);

    [Fact]
    public void GradientsAccumulateAcrossBackwardCalls()
    {
        using var scope = DisposeScope.Open();
        var x = Leaf(1, 2, 3);
        x.mul(x).sum().backward();
        Assert.Equal([2f, 4f, 6f], x.grad!.ToArray());
        x.mul(3f).sum().backward();
        Assert.Equal([5f, 7f, 9f], x.grad!.ToArray());
    }

    [Fact]
    public void SettingGradToNullZeroesIt()
    {
        using var scope = DisposeScope.Open();
        var x = Leaf(1, 2, 3);
        x.mul(x).sum().backward();
        x.grad!.Dispose();
        x.grad = null;
        x.mul(3f).sum().backward();
        Assert.Equal([3f, 3f, 3f], x.grad!.ToArray());
    }

    [Fact]
    public void ZeroGradFreesOrZeroesTheGradient()
    {
        using var scope = DisposeScope.Open();
        var x = Leaf(1, 2);
        x.mul(x).sum().backward();
        var g = x.grad!;
        x.zero_grad(setToNone: false);
        Assert.Same(g, x.grad);
        Assert.Equal([0f, 0f], g.ToArray());
        x.mul(3f).sum().backward();
        Assert.Equal([3f, 3f], x.grad!.ToArray());
        x.zero_grad();
        Assert.Null(x.grad);
        Assert.True(g.IsDisposed);
        x.zero_grad();   // no gradient: nothing to do
    }

    [Fact]
    public void EveryPathContributes()
    {
        using var scope = DisposeScope.Open();
        var a = Leaf(1, 2);
        var b = Leaf(3, 4);
        var shared = a.mul(b);                       // used twice below
        var y = shared.add(shared.mul(a)).add(a);    // ab + a²b + a
        y.sum().backward();
        Assert.Equal([3f + 2 * 1 * 3 + 1, 4f + 2 * 2 * 4 + 1], a.grad!.ToArray());
        Assert.Equal([1f + 1, 2f + 4], b.grad!.ToArray());
    }

    [Fact]
    public void UnreachedLeavesGetNoGradient()
    {
        using var scope = DisposeScope.Open();
        var a = Leaf(1, 2);
        var b = Leaf(3, 4);
        var unused = Leaf(5, 6);
        _ = unused.exp();
        a.mul(b.detach()).sum().backward();
        Assert.NotNull(a.grad);
        Assert.Null(b.grad);
        Assert.Null(unused.grad);
    }

    [Fact]
    public void NoGradRecordsNothingAndRestoresTheMode()
    {
        using var scope = DisposeScope.Open();
        var x = Leaf(1, 2);
        Tensor y, z;
        using (torch.no_grad())
        {
            Assert.False(torch.is_grad_enabled());
            y = x.mul(2f);
            using (torch.enable_grad())
            {
                Assert.True(torch.is_grad_enabled());
                z = x.mul(2f);
            }
            Assert.False(torch.is_grad_enabled());
        }
        Assert.True(torch.is_grad_enabled());
        Assert.False(y.requires_grad);
        Assert.Null(y.grad_fn);
        Assert.True(y.is_leaf);
        Assert.True(z.requires_grad);
        Assert.NotNull(z.grad_fn);
        Assert.Throws<InvalidOperationException>(() => y.sum().backward());
    }

    [Fact]
    public void DetachSharesMemoryButCutsTheGraph()
    {
        using var scope = DisposeScope.Open();
        var x = Leaf(1, 2);
        var y = x.mul(3f);
        var d = y.detach();
        Assert.False(d.requires_grad);
        Assert.Null(d.grad_fn);
        Assert.Same(y.Storage, d.Storage);
        var z = y.mul(d);   // gradient only through y: d is a constant 3x
        z.sum().backward();
        Assert.Equal([9f, 18f], x.grad!.ToArray());
    }

    [Fact]
    public void BackwardTwiceWithoutRetainGraphFails()
    {
        using var scope = DisposeScope.Open();
        var x = Leaf(1, 2);
        var y = x.exp().sum();
        y.backward();
        var ex = Assert.Throws<InvalidOperationException>(() => y.backward());
        Assert.Contains("second time", ex.Message);
        Assert.Contains("retainGraph", ex.Message);
    }

    [Fact]
    public void RetainGraphAllowsASecondBackward()
    {
        using var scope = DisposeScope.Open();
        var x = Leaf(1, 2);
        var y = x.mul(x).sum();
        y.backward(retainGraph: true);
        y.backward();
        Assert.Equal([4f, 8f], x.grad!.ToArray());
    }

    [Fact]
    public void InPlaceChangeOfASavedTensorFailsBackward()
    {
        using var scope = DisposeScope.Open();
        var x = Leaf(1, 2);
        var w = torch.tensor([3f, 4f]);
        var y = x.mul(w).sum();          // saves w
        w.mul_(2f);                       // w does not require grad: allowed, bumps its version
        var ex = Assert.Throws<InvalidOperationException>(() => y.backward());
        Assert.Contains("modified by an in-place operation", ex.Message);
    }

    /// <summary>Versions belong to the storage: changing a view of a saved tensor, or the saved output itself
    /// (under no_grad), is caught too.</summary>
    [Fact]
    public void InPlaceChangeThroughAViewOrOfASavedOutputFailsBackward()
    {
        using var scope = DisposeScope.Open();
        var x = Leaf(1, 2, 3, 4);
        var b = torch.tensor([1f, 2f, 3f, 4f, 5f, 6f]);
        var w = b.narrow(0, 1, 4);
        var y = x.mul(w).sum();
        b.narrow(0, 5, 1).fill_(0f);       // another view of w's storage
        Assert.Contains("modified by an in-place operation", Assert.Throws<InvalidOperationException>(() => y.backward()).Message);

        var e = x.exp();                   // exp saves its output
        using (torch.no_grad()) e.mul_(2f);
        Assert.Contains("its output", Assert.Throws<InvalidOperationException>(() => e.backward(torch.ones(4))).Message);
    }

    [Fact]
    public void InPlaceOnATensorThatRequiresGradNeedsNoGrad()
    {
        using var scope = DisposeScope.Open();
        var x = Leaf(1, 2);
        Assert.Throws<InvalidOperationException>(() => x.add_(1f));
        using (torch.no_grad()) x.add_(1f);     // optimiser-style update
        Assert.Equal([2f, 3f], x.ToArray());
        Assert.True(x.requires_grad);
    }

    /// <summary>Mixed element types are refused with a message naming both (never reinterpreted bits).</summary>
    [Fact]
    public void MixedDTypesAreRefused()
    {
        using var scope = DisposeScope.Open();
        var f32 = torch.ones(3);
        var f64 = torch.tensor([1.0, 2.0, 3.0], [3]);
        Assert.Throws<ArgumentException>(() => f32.add(f64));
        Assert.Throws<ArgumentException>(() => f32.matmul(f64));
        Assert.Throws<ArgumentException>(() => torch.cat([f32, f64]));
        Assert.Throws<ArgumentException>(() => f32.copy_(f64));
        var ex = Assert.Throws<ArgumentException>(() => f32.add_(f64));
        Assert.Contains("Float64", ex.Message);
        Assert.Throws<ArgumentException>(() => f64.mul_(f32));
        Assert.Equal([1f, 1f, 1f], f32.ToArray());
    }

    [Fact]
    public void RequiresGradRules()
    {
        using var scope = DisposeScope.Open();
        var i = torch.tensor([1, 2, 3]);
        Assert.Throws<InvalidOperationException>(() => i.requires_grad = true);
        i.requires_grad = false;
        var x = Leaf(1, 2);
        var y = x.mul(2f);
        Assert.False(y.is_leaf);
        Assert.Throws<InvalidOperationException>(() => y.requires_grad = false);
        Assert.Same(x, x.requires_grad_(false));
        Assert.False(x.requires_grad);
        Assert.False(x.mul(2f).requires_grad);
        var f64 = torch.tensor([1.0, 2.0], [2], requires_grad: true);
        Assert.True(f64.requires_grad);
    }

    [Fact]
    public void BackwardArgumentChecks()
    {
        using var scope = DisposeScope.Open();
        var x = Leaf(1, 2);
        var y = x.mul(2f);
        Assert.Contains("only for one-element outputs", Assert.Throws<InvalidOperationException>(() => y.backward()).Message);
        Assert.Throws<ArgumentException>(() => y.backward(torch.ones(3)));
        y.backward(torch.tensor([1f, 10f]));
        Assert.Equal([2f, 20f], x.grad!.ToArray());
        Assert.Throws<InvalidOperationException>(() => torch.ones(2).sum().backward());
        var d = torch.tensor([1.0, 2.0], [2], requires_grad: true);
        var ex = Assert.Throws<ArgumentException>(() => d.mul(2f).backward(torch.ones(2)));
        Assert.Contains("Float32", ex.Message);
        Assert.Contains("Float64", ex.Message);
    }

    [Fact]
    public void RetainGradKeepsAnIntermediatesGradient()
    {
        using var scope = DisposeScope.Open();
        var x = Leaf(1, 2);
        var h = x.mul(3f);
        h.retain_grad();
        var y = h.mul(h).sum();
        y.backward();
        Assert.Equal([6f, 12f], h.grad!.ToArray());
        Assert.Equal([18f, 36f], x.grad!.ToArray());
    }

    /// <summary>The leaf's .grad is its own memory: changing the gradient tensor passed to backward (or another
    /// leaf's grad) afterwards does not change it, and accumulation never writes into someone else's tensor.</summary>
    [Fact]
    public void LeafGradientsAreNotAliased()
    {
        using var scope = DisposeScope.Open();
        var x = Leaf(1, 2);
        var g = torch.tensor([5f, 6f]);
        x.clone().backward(g);
        using (torch.no_grad()) g.fill_(0f);
        Assert.Equal([5f, 6f], x.grad!.ToArray());

        var a = Leaf(1, 2);
        var b = Leaf(3, 4);
        a.add(b).sum().backward();           // add's backward hands the same gradient to both
        using (torch.no_grad()) a.grad!.add_(torch.ones(2));
        Assert.Equal([1f, 1f], b.grad!.ToArray());
        Assert.Equal([2f, 2f], a.grad!.ToArray());

        var e = Leaf(7);
        e.expand(3).sum().backward();        // gradient of an expand: a broadcast view, copied into .grad
        Assert.Equal([3f], e.grad!.ToArray());
        Assert.True(e.grad!.is_contiguous());
    }

    [Fact]
    public void GradFnNamesTheOp()
    {
        using var scope = DisposeScope.Open();
        var x = Leaf(1, 2);
        Assert.Equal("mul", x.mul(2f).grad_fn!.Name);
        Assert.Equal("matmul", x.reshape(1, 2).matmul(x.reshape(2, 1)).grad_fn!.Name);
        Assert.Equal("<sumBackward>", x.sum().grad_fn!.ToString());
        Assert.Null(x.grad_fn);
        Assert.True(x.is_leaf);
    }

    /// <summary>A chain of 20 000 ops: the topological sort is iterative, no stack overflow.</summary>
    [Fact]
    public void DeepGraphsDoNotOverflowTheStack()
    {
        using var scope = DisposeScope.Open();
        var x = Leaf(1);
        var y = x;
        for (int i = 0; i < 20_000; i++) y = y.add(1f);
        y.sum().backward();
        Assert.Equal([1f], x.grad!.ToArray());
    }

    /// <summary>Gradcheck itself catches a wrong gradient: x·detach(x) has derivative x by the tape, 2x truly.</summary>
    [Fact]
    public void GradcheckCatchesAWrongGradient()
    {
        using var scope = DisposeScope.Open();
        var x = torch.tensor([0.5, -1.0, 2.0], [3]);
        Assert.Throws<GradcheckException>(() => FsrNative.Gradcheck.Assert("x*detach(x)", t => t[0].mul(t[0].detach()), [x]));
        FsrNative.Gradcheck.Assert("x*x", t => t[0].mul(t[0]), [x]);
    }

    /// <summary>Ops whose result does not need a gradient do not record (no grad_fn), even with grad mode on.</summary>
    [Fact]
    public void OnlyOpsOnTensorsThatRequireGradRecord()
    {
        using var scope = DisposeScope.Open();
        var x = torch.tensor([1f, 2f]);
        Assert.Null(x.exp().grad_fn);
        var w = Leaf(1, 1);
        Assert.NotNull(x.mul(w).grad_fn);
        Assert.Null(x.gt(w).grad_fn);       // comparisons are not differentiable
        Assert.False(x.gt(w).requires_grad);
        Assert.False(w.argmax(0).requires_grad);
    }
}

/// <summary>Moving between devices is differentiable: the gradient comes back to the device of the input.</summary>
[Trait(Categories.Trait, EngineCategory.Name)]
public class DeviceTransferAutogradTests
{
    [Fact]
    public void ToAnotherDeviceAndBackCarriesTheGradient()
    {
        using var scope = DisposeScope.Open();
        var x = torch.tensor([0.5f, -1f, 2f], [3], requires_grad: true);
        var onEmu = x.to(Device.IlgpuCpu);
        Assert.Equal(Device.IlgpuCpu, onEmu.device);
        Assert.True(onEmu.requires_grad);
        var y = onEmu.mul(onEmu).cpu().sum();
        y.backward();
        Assert.Equal(Device.CPU, x.grad!.device);
        Assert.Equal([1f, -2f, 4f], x.grad!.ToArray());

        var dst = torch.zeros([2, 3], Device.IlgpuCpu);
        dst.copy_(torch.tensor([1f, 2f, 3f]));   // broadcast from another device
        Assert.Equal([1f, 2f, 3f, 1f, 2f, 3f], dst.ToArray());
    }
}
