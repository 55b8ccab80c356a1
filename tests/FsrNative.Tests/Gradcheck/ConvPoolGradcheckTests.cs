using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Gradcheck;

using Fn = FsrNative.torch.nn.functional;

/// <summary>
/// conv2d and pooling backwards against central finite differences in float64 (the reference kernels), on small shapes
/// covering each conv layout (columns, rows, pointwise), strides, padding, dilation, ceil mode and both average-pool
/// divisor rules. Max-pool inputs are continuous random values, so no window has a near-tie that eps could flip.
/// </summary>
[Trait(Categories.Trait, Categories.Gradcheck)]
public class ConvPoolGradcheckTests
{
    [Theory]
    [InlineData("2x3x5x6", "4x3x3x3", 1, 1, 1)]      // columns layout
    [InlineData("1x2x7x6", "3x2x3x3", 1, 2, 2)]      // dilated
    [InlineData("2x3x6x7", "2x3x3x2", 2, 1, 1)]      // rows layout (stride 2)
    [InlineData("2x3x8x8", "4x3x4x4", 4, 0, 1)]      // patch embedding
    [InlineData("2x4x3x5", "3x4x1x1", 1, 0, 1)]      // pointwise
    public void Conv2d(string x, string w, int stride, int padding, int dilation)
    {
        int o = In.Parse(w).Shape[0];
        GC.Check($"conv2d(s{stride} p{padding} d{dilation})", [x, w, $"{o}"],
            t => Fn.conv2d(t[0], t[1], t[2], stride, padding, dilation));
        GC.Check($"conv2d(no bias, s{stride} p{padding} d{dilation}, x@p)", [x + "@p", w],
            t => Fn.conv2d(t[0], t[1], null, stride, padding, dilation));
    }

    [Theory]
    [InlineData(3, 2, 1, 1, false)]
    [InlineData(2, 1, 0, 2, false)]
    [InlineData(3, 2, 0, 1, true)]
    public void MaxPool2d(int k, int s, int p, int d, bool ceil)
    {
        GC.Check($"max_pool2d(k{k} s{s} p{p} d{d} ceil={ceil})", ["2x2x7x8"], t => Fn.max_pool2d(t[0], k, s, p, d, ceil));
    }

    [Theory]
    [InlineData(3, 2, 1, false, true)]
    [InlineData(3, 2, 1, false, false)]
    [InlineData(3, 2, 1, true, true)]
    [InlineData(2, 1, 1, true, false)]
    public void AvgPool2d(int k, int s, int p, bool ceil, bool includePad)
    {
        GC.Check($"avg_pool2d(k{k} s{s} p{p} ceil={ceil} pad={includePad})", ["2x2x7x8"], t => Fn.avg_pool2d(t[0], k, s, p, ceil, includePad));
    }

    [Fact]
    public void AdaptiveAndGlobalPools()
    {
        GC.Check("adaptive_avg_pool2d(3, 4)", ["2x2x7x9"], t => Fn.adaptive_avg_pool2d(t[0], (3, 4)));
        GC.Check("adaptive_avg_pool2d(2, 3)", ["2x2x6x6"], t => Fn.adaptive_avg_pool2d(t[0], (2, 3)));
        GC.Check("global_avg_pool2d", ["2x3x5x4"], t => Fn.global_avg_pool2d(t[0]));
        GC.Check("global_max_pool2d", ["2x3x5x4"], t => Fn.global_max_pool2d(t[0], keepdim: true));
    }
}
