using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Oracle;

using ts = TorchSharp.torch;
using TF = TorchSharp.torch.nn.functional;
using IM = TorchSharp.torch.InterpolationMode;

/// <summary>interpolate (nearest, bilinear with and without align_corners, bicubic; up, down, mixed, size 1, identity,
/// scale factors incl. PyTorch's 1/scale_factor mapping, views) and flip, forward and input gradient against libtorch.</summary>
[Trait(Categories.Trait, Categories.Oracle)]
public class ResamplingOracleTests
{
    /// <summary>The SIMD kernels split work over cores above CpuKernelSettings.ParallelMinWork; lowered (as the other
    /// large-shape tests do) so that the larger shapes here run threaded. Splits never change results.</summary>
    static ResamplingOracleTests() => FsrNative.Kernels.Cpu.CpuKernelSettings.ParallelMinWork = 1 << 14;

    static Tolerance T(double atol, double rtol) => new(atol, rtol);

    /// <summary>Up to 16 weighted taps per output (separable here, direct in libtorch's bicubic backward): float rounding.</summary>
    static readonly Tolerance Taps = T(2e-6, 1e-5);
    /// <summary>Gradients sum up to a few hundred weighted output gradients per input (large upsampling factors).</summary>
    static readonly Tolerance Sums = T(2e-5, 1e-4);

    static IM Mode(string mode) => mode switch { "nearest" => IM.Nearest, "bilinear" => IM.Bilinear, _ => IM.Bicubic };

    static long[] L(int[] a) => Array.ConvertAll(a, v => (long)v);

    public static TheoryData<string, string, string, bool?> SizeCases()
    {
        var data = new TheoryData<string, string, string, bool?>();
        var shapes = new (string x, string size)[]
        {
            ("2x3x5x7", "9x11"),        // up, odd factors (horizontal pass first)
            ("2x3x9x11", "4x5"),        // down (vertical pass first)
            ("1x2x6x5", "6x13"),        // H unchanged (identity rows), W up
            ("1x2x7x8", "12x3"),        // mixed: H up, W down
            ("1x1x4x4", "1x1"),         // single output
            ("1x2x1x3", "4x5"),         // single input row
            ("3x2x8x8", "16x16"),       // exact 2×
            ("1x1x28x28", "448x448"),   // the FSR seg-logit upsampling factor (16×), one plane: split into row blocks
            ("2x3x7x5@t", "9x4"),       // transposed view (copied)
            ("2x3x5x7@n", "8x6"),       // narrowed view
        };
        foreach (var (x, size) in shapes)
        {
            data.Add(x, size, "nearest", null);
            data.Add(x, size, "bilinear", false);
            data.Add(x, size, "bilinear", true);
            data.Add(x, size, "bicubic", false);
            data.Add(x, size, "bicubic", true);
        }
        data.Add("1x6x14x14", "28x28", "bicubic", false);   // ViT position-embedding resize (14×14 → 28×28)
        data.Add("1x6x28x28", "17x23", "bicubic", false);   // the table resized on the fly for another input size
        return data;
    }

    [Theory, MemberData(nameof(SizeCases))]
    public void InterpolateToSize(string x, string size, string mode, bool? align)
    {
        var s = In.Parse(size).Shape;
        OpCheck.Check($"interpolate({size}, {mode}, align={align})", [x],
            t => torch.nn.functional.interpolate(t[0], size: s, mode: mode, align_corners: align),
            t => TF.interpolate(t[0], size: L(s), mode: Mode(mode), align_corners: align),
            Taps, Sums, Values.Normal());
    }

    /// <summary>Scale factors: PyTorch maps with 1/scale_factor (not in/out) unless recompute_scale_factor is set.
    /// 7 × 0.5 → 3 outputs mapped with scale 2 (in/out would be 7/3); DINO's pos-embed resize uses (28 + 0.1)/14.</summary>
    [Theory]
    [InlineData("1x2x7x7", 0.5, 0.5, "bilinear", false, false)]
    [InlineData("1x2x7x7", 0.5, 0.5, "nearest", null, false)]
    [InlineData("1x2x7x7", 0.5, 0.5, "bicubic", false, false)]
    [InlineData("1x2x7x9", 2.5, 1.5, "bilinear", false, false)]
    [InlineData("1x2x7x9", 2.5, 1.5, "nearest", null, false)]
    [InlineData("1x2x7x9", 2.5, 1.5, "bicubic", false, false)]
    [InlineData("1x2x7x9", 2.5, 0.7, "bilinear", true, false)]
    [InlineData("1x3x14x14", 28.1 / 14, 28.1 / 14, "bicubic", false, false)]
    [InlineData("1x2x10x10", 0.5, 0.5, "nearest", null, false)]          // the CRF's 0.5 downscale of image and labels
    [InlineData("1x2x7x7", 0.5, 0.5, "bilinear", false, true)]           // recompute_scale_factor: in/out again
    [InlineData("1x2x7x9", 2.5, 1.5, "bicubic", false, true)]
    public void InterpolateByScaleFactor(string x, double sh, double sw, string mode, bool? align, bool recompute)
    {
        OpCheck.Check($"interpolate(scale=({sh}, {sw}), {mode}, align={align}, recompute={recompute})", [x],
            t => torch.nn.functional.interpolate(t[0], scale_factor: [sh, sw], mode: mode, align_corners: align, recompute_scale_factor: recompute),
            t => TF.interpolate(t[0], scale_factor: [sh, sw], mode: Mode(mode), align_corners: align, recompute_scale_factor: recompute),
            Taps, Sums, Values.Normal());
    }

    [Fact]
    public void InterpolateOneSizeForBothAxes()
    {
        OpCheck.Check("interpolate(size=[6])", ["1x2x3x4"],
            t => torch.nn.functional.interpolate(t[0], size: [6], mode: "bilinear"),
            t => TF.interpolate(t[0], size: [6L, 6L], mode: IM.Bilinear, align_corners: false), Taps, Sums);
    }

    [Fact]
    public void InterpolateRejectsBadArguments()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.zeros(1, 1, 4, 4);
        Assert.Throws<ArgumentException>(() => torch.nn.functional.interpolate(x, size: [8, 8], mode: "nearest", align_corners: false));
        Assert.Throws<ArgumentException>(() => torch.nn.functional.interpolate(x));
        Assert.Throws<ArgumentException>(() => torch.nn.functional.interpolate(x, size: [2, 2], scale_factor: [2.0]));
        Assert.Throws<ArgumentException>(() => torch.nn.functional.interpolate(torch.zeros(4, 4), size: [8, 8]));
        Assert.Throws<NotSupportedException>(() => torch.nn.functional.interpolate(x, size: [8, 8], mode: "area"));
        var e = Assert.Throws<ArgumentException>(() => torch.nn.functional.interpolate(x, scale_factor: [0.1]));
        Assert.Contains("interpolate", e.Message);
    }

    // ---- flip -------------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("2x3x4x5", new[] { 3 })]        // horizontal flip of images (last axis: lane reversal)
    [InlineData("2x3x4x21", new[] { -1 })]      // row longer than a vector, with a tail
    [InlineData("2x3x4x5", new[] { 2 })]        // rows of inner elements in reverse order
    [InlineData("2x3x4x5", new[] { 0, 2 })]
    [InlineData("2x3x4x5", new[] { 1, 2, 3 })]
    [InlineData("7", new[] { 0 })]
    [InlineData("4x1", new[] { 1 })]
    [InlineData("5x7@t", new[] { 1 })]
    [InlineData("3x5x7@p", new[] { 0, 2 })]
    [InlineData("4x6@e0", new[] { 0 })]
    public void Flip(string x, int[] dims)
    {
        var ld = Array.ConvertAll(dims, v => (long)v);
        var exact = T(0, 0);
        OpCheck.Check($"flip({string.Join(",", dims)})", [x], t => t[0].flip(dims), t => t[0].flip(ld), exact, exact);
        OpCheck.Check($"torch.flip({string.Join(",", dims)})", [x], t => torch.flip(t[0], dims), t => ts.flip(t[0], ld), exact, exact);
    }

    [Fact]
    public void FlipInt32Labels()
    {
        OpCheck.Check("flip(labels)", [In.Index(21, 2, 5, 7)], t => t[0].flip(2), t => t[0].flip(2), T(0, 0), T(0, 0));
    }

    [Fact]
    public void FlipNothing()
    {
        OpCheck.Check("flip()", ["3x4"], t => t[0].flip(), t => t[0].flip(Array.Empty<long>()), T(0, 0), T(0, 0));
    }
}
