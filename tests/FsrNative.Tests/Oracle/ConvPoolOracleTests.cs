using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Oracle;

using TT = TorchSharp.torch.Tensor;
using ts = TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

/// <summary>
/// conv2d (every patch-matrix layout: pointwise, columns, rows; strides, asymmetric padding and dilation, odd sizes,
/// size 1, unbatched and non-contiguous inputs, chunked batches), max/avg/adaptive pooling (ceil mode, padding rules,
/// ties, NaN, −∞), and global pooling against libtorch, forward and every input gradient (and max-pool indices).
/// </summary>
[Trait(Categories.Trait, Categories.Oracle)]
public class ConvPoolOracleTests
{
    static Tolerance T(double atol, double rtol) => new(atol, rtol);

    /// <summary>Dot products of up to a few hundred O(1) terms in another order than libtorch's.</summary>
    static readonly Tolerance Conv = T(1e-4, 1e-4);

    static long[] L(int h, int w) => [h, w];

    // ---- conv2d -------------------------------------------------------------------------------------------------

    public static TheoryData<string, string, bool, int[]> ConvCases() => new()
    {
        // input, weight, bias, [strideH, strideW, padH, padW, dilH, dilW]
        { "2x3x7x9", "4x3x3x3", true, [1, 1, 1, 1, 1, 1] },        // columns layout, same padding
        { "2x3x7x9", "4x3x3x3", false, [1, 1, 0, 0, 1, 1] },       // valid
        { "2x5x9x8", "3x5x3x3", true, [1, 1, 2, 2, 2, 2] },        // dilated
        { "1x4x11x11", "3x4x3x3", false, [1, 1, 5, 5, 5, 5] },     // LargeFOV geometry (dilation 5, padding 5)
        { "2x6x5x7", "3x6x1x1", true, [1, 1, 0, 0, 1, 1] },        // pointwise: no im2col
        { "2x6x5x7", "3x6x1x1", false, [2, 2, 0, 0, 1, 1] },       // 1×1 with stride: rows layout
        { "2x3x16x16", "5x3x4x4", true, [4, 4, 0, 0, 1, 1] },      // patch embedding (kernel = stride)
        { "1x3x18x17", "5x3x4x4", true, [4, 4, 0, 0, 1, 1] },      // ... with leftover pixels (their gradient is 0)
        { "2x3x9x10", "4x3x2x3", true, [2, 1, 0, 1, 1, 2] },       // asymmetric kernel, stride, padding, dilation
        { "2x2x7x8", "3x2x3x3", false, [2, 3, 1, 2, 1, 1] },       // strides 2×3 with padding
        { "1x2x2x2", "3x2x3x3", true, [1, 1, 1, 1, 1, 1] },        // kernel larger than the image
        { "1x1x5x5", "1x1x5x5", true, [1, 1, 0, 0, 1, 1] },        // 1×1 output, one channel in and out
        { "3x1x6x4", "2x1x3x1", true, [1, 1, 1, 0, 1, 1] },
    };

    [Theory, MemberData(nameof(ConvCases))]
    public void Conv2d(string input, string weight, bool bias, int[] a)
    {
        int o = In.Parse(weight).Shape[0];
        In[] inputs = bias ? [input, weight, $"{o}"] : [input, weight];
        OpCheck.Check($"conv2d({string.Join(",", a)})", inputs,
            x => torch.nn.functional.conv2d(x[0], x[1], bias ? x[2] : null, (a[0], a[1]), (a[2], a[3]), (a[4], a[5])),
            x => F.conv2d(x[0], x[1], bias ? x[2] : null, L(a[0], a[1]), L(a[2], a[3]), L(a[4], a[5])), Conv, Conv);
    }

    [Fact]
    public void Conv2dLayoutsAndPartialGrads()
    {
        // Non-contiguous input and weight (copied by the op), unbatched input, inputs without grad.
        OpCheck.Check("conv2d(x@p)", ["2x3x7x9@p", "4x3x3x3", "4"],
            x => torch.nn.functional.conv2d(x[0], x[1], x[2], 1, 1),
            x => F.conv2d(x[0], x[1], x[2], L(1, 1), L(1, 1)), Conv, Conv);
        OpCheck.Check("conv2d(w@n0)", ["2x3x6x6", "4x3x3x3@n0"],
            x => torch.nn.functional.conv2d(x[0], x[1], stride: 2),
            x => F.conv2d(x[0], x[1], null, L(2, 2)), Conv, Conv);
        OpCheck.Check("conv2d(unbatched)", ["3x7x6", "2x3x3x3", "2"],
            x => torch.nn.functional.conv2d(x[0], x[1], x[2], padding: 1),
            x => F.conv2d(x[0], x[1], x[2], L(1, 1), L(1, 1)), Conv, Conv);
        OpCheck.Check("conv2d(x!, w, b!)", ["2x3x6x5!", "4x3x3x3", "4!"],
            x => torch.nn.functional.conv2d(x[0], x[1], x[2], padding: 1),
            x => F.conv2d(x[0], x[1], x[2], L(1, 1), L(1, 1)), Conv, Conv);
        OpCheck.Check("conv2d(empty batch)", ["0x3x6x5", "4x3x3x3", "4"],
            x => torch.nn.functional.conv2d(x[0], x[1], x[2], padding: 1),
            x => F.conv2d(x[0], x[1], x[2], L(1, 1), L(1, 1)), Conv, Conv);
        OpCheck.Check("conv2d(x, w!)", ["2x3x6x5", "4x3x3x3!"],
            x => torch.nn.functional.conv2d(x[0], x[1], null, 2, 1),
            x => F.conv2d(x[0], x[1], null, L(2, 2), L(1, 1)), Conv, Conv);
    }

    /// <summary>A shape for the packed GEMM path (K = 576 taps, 40 output channels) and threaded im2col/col2im.</summary>
    [Fact]
    public void Conv2dLargeShape()
    {
        OpCheck.Check("conv2d(large)", ["2x64x24x24", "40x64x3x3", "40"],
            x => torch.nn.functional.conv2d(x[0], x[1], x[2], 1, 2, 2),
            x => F.conv2d(x[0], x[1], x[2], L(1, 1), L(2, 2), L(2, 2)), T(1e-3, 1e-4), T(2e-3, 1e-4));
    }

    [Fact]
    public void Conv2dErrorsNameTheArgument()
    {
        var x = torch.zeros(1, 3, 8, 8);
        var w = torch.zeros(4, 3, 3, 3);
        Assert.Contains("groups = 2", Assert.Throws<NotSupportedException>(() => torch.nn.functional.conv2d(x, w, groups: 2)).Message);
        Assert.Contains("channels", Assert.Throws<ArgumentException>(() => torch.nn.functional.conv2d(x, torch.zeros(4, 2, 3, 3))).Message);
        Assert.Contains("bias", Assert.Throws<ArgumentException>(() => torch.nn.functional.conv2d(x, w, torch.zeros(3))).Message);
        Assert.Contains("stride", Assert.Throws<ArgumentException>(() => torch.nn.functional.conv2d(x, w, stride: 0)).Message);
        Assert.Contains("smaller than the dilated kernel", Assert.Throws<ArgumentException>(() => torch.nn.functional.conv2d(x, w, dilation: 4)).Message);
        Assert.Contains("4-D", Assert.Throws<ArgumentException>(() => torch.nn.functional.conv2d(x, torch.zeros(4, 3, 3))).Message);
        Assert.Contains("3-D", Assert.Throws<ArgumentException>(() => torch.nn.functional.conv2d(torch.zeros(3, 8), w)).Message);
    }

    // ---- max pooling --------------------------------------------------------------------------------------------

    public static TheoryData<string, int[], bool> MaxCases() => new()
    {
        // input, [kH, kW, sH, sW, pH, pW, dH, dW], ceil_mode
        { "2x3x8x9", [3, 3, 2, 2, 1, 1, 1, 1], false },        // the benchmark's k3 s2 p1
        { "2x3x8x9", [2, 2, 2, 2, 0, 0, 1, 1], false },
        { "2x2x7x40", [3, 3, 1, 1, 1, 1, 1, 1], false },       // stride 1 rows (vector loop and tails)
        { "1x2x5x50", [3, 3, 2, 2, 1, 1, 1, 1], false },       // long stride-2 rows (AVX2 deinterleave)
        { "1x2x7x37", [3, 4, 3, 3, 1, 2, 1, 1], false },       // stride 3 (generic phases)
        { "2x2x9x9", [3, 3, 1, 1, 1, 1, 2, 2], false },        // dilation
        { "1x2x8x8", [3, 3, 2, 2, 0, 0, 1, 1], true },         // ceil mode adds a clipped window
        { "1x2x8x7", [3, 2, 2, 2, 1, 1, 1, 1], true },
        { "1x1x1x1", [1, 1, 1, 1, 0, 0, 1, 1], false },
    };

    static Func<Tensor[], Tensor[]> OurMax(int[] a, bool ceil) => x =>
    {
        var (y, i) = torch.nn.functional.max_pool2d_with_indices(x[0], (a[0], a[1]), (a[2], a[3]), (a[4], a[5]), (a[6], a[7]), ceil);
        return [y, i];
    };

    static Func<TT[], TT[]> TheirMax(int[] a, bool ceil) => x =>
    {
        var (y, i) = F.max_pool2d_with_indices(x[0], L(a[0], a[1]), L(a[2], a[3]), L(a[4], a[5]), L(a[6], a[7]), ceil);
        return [y, i];
    };

    [Theory, MemberData(nameof(MaxCases))]
    public void MaxPool2d(string input, int[] a, bool ceil)
    {
        string label = $"max_pool2d({string.Join(",", a)}, ceil={ceil})";
        OpCheck.CheckMany(label, [input], OurMax(a, ceil), TheirMax(a, ceil));
        // Many exact ties (the first position wins and gets the gradient), NaN (the last NaN wins), −∞ everywhere.
        OpCheck.CheckMany(label + " ties", [In.Parse(input).With(Values.Ties())], OurMax(a, ceil), TheirMax(a, ceil));
        OpCheck.CheckMany(label + " NaN", [In.Parse(input).With(Values.With(Values.Uniform(), float.NaN, 7, 3))], OurMax(a, ceil), TheirMax(a, ceil));
        OpCheck.CheckMany(label + " -inf", [In.Parse(input).With(Values.With(Values.Uniform(), float.NegativeInfinity, 2))], OurMax(a, ceil), TheirMax(a, ceil));
    }

    [Fact]
    public void MaxPool2dLayoutsAndDefaults()
    {
        OpCheck.Check("max_pool2d(x@p)", ["2x3x8x9@p"], x => torch.nn.functional.max_pool2d(x[0], 3, 2, 1),
            x => F.max_pool2d(x[0], L(3, 3), L(2, 2), L(1, 1)));
        OpCheck.Check("max_pool2d(empty batch)", ["0x2x7x6"], x => torch.nn.functional.max_pool2d(x[0], 3, 2, 1),
            x => F.max_pool2d(x[0], L(3, 3), L(2, 2), L(1, 1)));
        OpCheck.Check("avg_pool2d(empty batch)", ["0x2x7x6"], x => torch.nn.functional.avg_pool2d(x[0], 3, 2, 1),
            x => F.avg_pool2d(x[0], L(3, 3), L(2, 2), L(1, 1)));
        OpCheck.Check("max_pool2d(unbatched)", ["3x7x6"], x => torch.nn.functional.max_pool2d(x[0], 2),
            x => F.max_pool2d(x[0], L(2, 2), L(2, 2)));
        Assert.Contains("at most half", Assert.Throws<ArgumentException>(() => torch.nn.functional.max_pool2d(torch.zeros(1, 1, 5, 5), 2, 1, 2)).Message);
        // A dilated window that steps over a 2-wide input (PyTorch returns −∞ with an index outside the plane): refused.
        Assert.Contains("holds no input position", Assert.Throws<ArgumentException>(() => torch.nn.functional.max_pool2d(torch.zeros(1, 1, 9, 2), 2, 1, 1, 3)).Message);
    }

    [Theory]
    [InlineData("2x3x28x28", false)]   // vector path (784 values per plane)
    [InlineData("2x3x5x3", true)]
    [InlineData("4x1x1", false)]       // unbatched, 1×1 planes
    public void GlobalMaxPool(string input, bool keepdim)
    {
        Func<TT[], TT> theirs = x =>
        {
            var y = F.adaptive_max_pool2d(x[0], [1, 1]);
            return keepdim ? y : y.squeeze(-1).squeeze(-1);
        };
        OpCheck.Check("global_max_pool2d", [input], x => torch.nn.functional.global_max_pool2d(x[0], keepdim), theirs);
        OpCheck.Check("global_max_pool2d ties", [In.Parse(input).With(Values.Ties())], x => torch.nn.functional.global_max_pool2d(x[0], keepdim), theirs);
        OpCheck.Check("global_max_pool2d NaN", [In.Parse(input).With(Values.With(Values.Uniform(), float.NaN, 11, 2))],
            x => torch.nn.functional.global_max_pool2d(x[0], keepdim), theirs);
    }

    // ---- average pooling ----------------------------------------------------------------------------------------

    public static TheoryData<string, int[], bool, bool> AvgCases() => new()
    {
        // input, [kH, kW, sH, sW, pH, pW], ceil_mode, count_include_pad
        { "2x3x8x9", [3, 3, 2, 2, 1, 1], false, true },
        { "2x3x8x9", [3, 3, 2, 2, 1, 1], false, false },
        { "1x2x8x8", [3, 3, 2, 2, 1, 1], true, true },          // ceil mode: the last window is clipped at H + pad
        { "1x2x8x8", [3, 3, 2, 2, 1, 1], true, false },
        { "1x2x7x40", [3, 3, 1, 1, 1, 1], false, true },        // stride-1 rows
        { "1x2x5x50", [2, 3, 2, 2, 1, 1], false, false },       // stride-2 rows
        { "2x2x9x10", [3, 2, 1, 2, 1, 1], false, true },
        { "1x1x1x1", [1, 1, 1, 1, 0, 0], false, true },
    };

    [Theory, MemberData(nameof(AvgCases))]
    public void AvgPool2d(string input, int[] a, bool ceil, bool includePad)
    {
        OpCheck.Check($"avg_pool2d({string.Join(",", a)}, ceil={ceil}, count_include_pad={includePad})", [input],
            x => torch.nn.functional.avg_pool2d(x[0], (a[0], a[1]), (a[2], a[3]), (a[4], a[5]), ceil, includePad),
            x => F.avg_pool2d(x[0], L(a[0], a[1]), L(a[2], a[3]), L(a[4], a[5]), ceil, includePad));
    }

    [Fact]
    public void AvgPool2dDivisorOverrideAndLayouts()
    {
        OpCheck.Check("avg_pool2d(divisor_override=5)", ["2x3x8x9"],
            x => torch.nn.functional.avg_pool2d(x[0], 3, 2, 1, divisorOverride: 5),
            x => F.avg_pool2d(x[0], L(3, 3), L(2, 2), L(1, 1), false, true, 5));
        OpCheck.Check("avg_pool2d(x@p)", ["2x3x8x9@p"], x => torch.nn.functional.avg_pool2d(x[0], 2),
            x => F.avg_pool2d(x[0], L(2, 2), L(2, 2), L(0, 0)));
        OpCheck.Check("avg_pool2d(unbatched)", ["3x7x6"], x => torch.nn.functional.avg_pool2d(x[0], 3, 1, 1),
            x => F.avg_pool2d(x[0], L(3, 3), L(1, 1), L(1, 1)));
    }

    [Theory]
    [InlineData("2x3x7x9", 3, 4)]      // irregular windows (overlapping)
    [InlineData("2x3x8x6", 4, 3)]      // windows tiling the plane evenly (the window-pool path)
    [InlineData("1x2x5x4", 7, 9)]      // output larger than the input
    [InlineData("2x3x7x9", 7, 9)]      // identity
    [InlineData("2x3x7x9", 1, 1)]
    [InlineData("3x6x5", 2, 2)]        // unbatched
    public void AdaptiveAvgPool2d(string input, int oh, int ow)
    {
        OpCheck.Check($"adaptive_avg_pool2d({oh}, {ow})", [input], x => torch.nn.functional.adaptive_avg_pool2d(x[0], (oh, ow)),
            x => F.adaptive_avg_pool2d(x[0], [oh, ow]));
    }

    [Theory]
    [InlineData("2x3x28x28", false)]
    [InlineData("2x3x5x3", true)]
    [InlineData("4x2x3@p", false)]
    public void GlobalAvgPool(string input, bool keepdim)
    {
        OpCheck.Check("global_avg_pool2d", [input], x => torch.nn.functional.global_avg_pool2d(x[0], keepdim), x =>
        {
            var y = F.adaptive_avg_pool2d(x[0], [1, 1]);
            return keepdim ? y : y.squeeze(-1).squeeze(-1);
        });
    }
}
