using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Oracle;

using ts = TorchSharp.torch;

/// <summary>OpCheck itself: it fails, naming the op and the shapes, on every kind of disagreement it claims to catch.</summary>
[Trait(Categories.Trait, Categories.Oracle)]
public class OpCheckSelfTests
{
    static string FailureOf(Action check) => Assert.ThrowsAny<Xunit.Sdk.XunitException>(check).Message;

    [Fact]
    public void CatchesAWrongForward()
    {
        var m = FailureOf(() => OpCheck.Check("exp-ish", ["3x4"], x => x[0].exp().mul(1.001f), x => x[0].exp()));
        Assert.Contains("exp-ish(3x4) output 0 forward", m);
        Assert.Contains("elements differ", m);
        Assert.Contains("shape [3, 4]", m);
    }

    [Fact]
    public void CatchesAWrongGradient()
    {
        // Same forward value, but the tape sees x·detach(x): gradient x instead of 2x.
        var m = FailureOf(() => OpCheck.Check("square-ish", ["3x4@t"], x => x[0].mul(x[0].detach()), x => x[0].square()));
        Assert.Contains("gradient of input 0 (leaf [4, 3] under @t)", m);
    }

    [Fact]
    public void CatchesAWrongShapeOrIndex()
    {
        Assert.Contains("shape", FailureOf(() => OpCheck.Check("sum", ["3x4"], x => x[0].sum(1, keepdim: true), x => x[0].sum(1L, false))));
        Assert.Contains("(indices)", FailureOf(() => OpCheck.Check("argmax-ish", ["3x4!"], x => x[0].argmin(1), x => x[0].argmax(1, false))));
    }

    [Fact]
    public void CatchesARequiresGradMismatch()
    {
        Assert.Contains("requires_grad", FailureOf(() => OpCheck.Check("detached", ["3x4"], x => x[0].detach().exp(), x => x[0].exp())));
    }

    [Fact]
    public void CatchesAnOpThatModifiesItsInput()
    {
        var m = FailureOf(() => OpCheck.Check("sneaky", ["3x4!"], x => { x[0].mul_(2f); return x[0].clone(); }, x => x[0].mul(2f)));
        Assert.Contains("input 0 was modified", m);
    }

    [Fact]
    public void CatchesANonDeterministicOp()
    {
        int calls = 0;
        var m = FailureOf(() => OpCheck.Check("flaky", ["3x4!"], x => x[0].add(calls++ == 0 ? 0f : 1e-3f), x => x[0].add(0f), new Tolerance(1e-2, 0)));
        Assert.Contains("two runs", m);
    }

    [Fact]
    public void LayoutsGiveNonContiguousViewsOfTheRequestedShape()
    {
        foreach (var spec in new[] { "4x6@t", "4x6@n", "4x6@n0", "4x6@e0", "2x3x4@p", "2x3x4@e02" })
        {
            var s = In.Parse(spec);
            using var scope = DisposeScope.Open();
            var leaf = torch.zeros(s.Layout.BaseShape(s.Shape));
            var v = s.Layout.Ours(leaf, s.Shape);
            Assert.Equal(s.Shape, v.shape);
            Assert.Same(leaf.Storage, v.Storage);
            if (spec != "4x6@n0") Assert.False(v.is_contiguous(), spec);
        }
        Assert.Equal([3, 2], In.Parse("2x3@t").Layout.BaseShape([2, 3]));
        Assert.Equal([], In.Parse("()").Shape);
        Assert.False(In.Parse("3x4!").Grad);
    }
}
