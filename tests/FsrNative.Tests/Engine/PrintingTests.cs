using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Engine;

/// <summary>
/// ToString prints like Python PyTorch (torch/_tensor_str.py with default print options: precision 4, threshold
/// 1000, edgeitems 3, linewidth 80). The expected strings are PyTorch's own output for the same tensors.
/// </summary>
[Trait(Categories.Trait, EngineCategory.Name)]
public class PrintingTests
{
    static string Print(Func<Tensor> make)
    {
        using var scope = DisposeScope.Open();
        return make().ToString();
    }

    [Fact]
    public void FloatsWithFourDecimalsAlignedByColumn() =>
        Assert.Equal("tensor([[ 1.0000, -2.5000],\n        [ 0.0000,  3.0000]])", Print(() => torch.tensor([1f, -2.5f, 0f, 3f], 2, 2)));

    [Fact]
    public void IntegralFloatsPrintWithATrailingDot() =>
        Assert.Equal("tensor([1., 2., 3.])", Print(() => torch.tensor([1f, 2f, 3f])));

    [Fact]
    public void ZeroDim() => Assert.Equal("tensor(3.5000)", Print(() => torch.scalar_tensor(3.5f)));

    [Fact]
    public void Int32ShowsItsDtype()
    {
        Assert.Equal("tensor([1, 2, 3], dtype=torch.int32)", Print(() => torch.tensor(new[] { 1, 2, 3 })));
        Assert.Equal("tensor([-1, 10], dtype=torch.int32)", Print(() => torch.tensor(new[] { -1, 10 })));
    }

    [Fact]
    public void Float64ShowsItsDtype() =>
        Assert.Equal("tensor([1.5000], dtype=torch.float64)", Print(() => torch.tensor([1.5], [1])));

    [Fact]
    public void RequiresGradAndGradFn()
    {
        Assert.Equal("tensor([1., 2.], requires_grad=True)", Print(() => torch.tensor([1f, 2f], [2], requires_grad: true)));
        var s = Print(() => torch.tensor([1f, 2f], [2], requires_grad: true).mul(2f));
        Assert.StartsWith("tensor([2., 4.], grad_fn=<", s);
    }

    [Fact]
    public void ScientificWhenTheSmallestIsBelow1e4() =>
        Assert.Equal("tensor([1.0000e-05, 1.0000e+00])", Print(() => torch.tensor([1e-5f, 1f])));

    [Fact]
    public void ScientificWhenMagnitudesSpanMoreThan1000() =>
        Assert.Equal("tensor([1.0000e-03, 2.0000e+00])", Print(() => torch.tensor([0.001f, 2f])));

    [Fact]
    public void ScientificAbove1e8() => Assert.Equal("tensor([1.0000e+09])", Print(() => torch.tensor([1e9f])));

    [Fact]
    public void FixedWithMixedWidths() =>
        Assert.Equal("tensor([123.4560,   0.5000])", Print(() => torch.tensor([123.456f, 0.5f])));

    [Fact]
    public void NonFiniteValuesDoNotWidenColumns()
    {
        Assert.Equal("tensor([1., -inf])", Print(() => torch.tensor([1f, float.NegativeInfinity])));
        Assert.Equal("tensor([1., nan])", Print(() => torch.tensor([1f, float.NaN])));
        Assert.Equal("tensor([inf, -inf])", Print(() => torch.tensor([float.PositiveInfinity, float.NegativeInfinity])));
    }

    [Fact]
    public void LongRowsWrapAt80Columns() =>
        Assert.Equal("tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n        14., 15., 16., 17., 18., 19.])",
            Print(() => torch.arange(20)));

    [Fact]
    public void SummarisedVector() =>
        Assert.Equal("tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n        1.9990e+03])",
            Print(() => torch.arange(2000)));

    [Fact]
    public void SummarisedMatrix() =>
        Assert.Equal("tensor([[0., 0., 0.],\n        [0., 0., 0.],\n        [0., 0., 0.],\n        ...,\n        [0., 0., 0.],\n        [0., 0., 0.],\n        [0., 0., 0.]])",
            Print(() => torch.zeros(400, 3)));

    [Fact]
    public void ThreeDimensions() =>
        Assert.Equal("tensor([[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]])",
            Print(() => torch.arange(8).reshape(2, 2, 2)));

    [Fact]
    public void Empty()
    {
        Assert.Equal("tensor([])", Print(() => torch.zeros(0)));
        Assert.Equal("tensor([], size=(2, 0))", Print(() => torch.zeros(2, 0)));
    }

    [Fact]
    public void ViewsPrintTheirLogicalValues() =>
        Assert.Equal("tensor([[0., 2.],\n        [1., 3.]])", Print(() => torch.arange(4).reshape(2, 2).t()));
}
