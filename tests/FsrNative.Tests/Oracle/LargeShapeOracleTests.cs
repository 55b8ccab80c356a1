using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Oracle;

using ts = TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

/// <summary>
/// Shapes large enough to take the backends' multi-threaded and blocked paths (strided walks split across cores
/// above 2¹⁶ elements; GEMM blocks of ~144 rows × 384 depth), still small enough to run in milliseconds.
/// Tolerances grow with the length of the sums.
/// </summary>
[Trait(Categories.Trait, Categories.Oracle)]
public class LargeShapeOracleTests
{
    /// <summary>The SIMD kernels split work over cores above CpuKernelSettings.ParallelMinWork (2¹⁸ by default); the
    /// kernel tests lower it to 2¹⁴, and so do these, so that the shapes here run threaded. Splits never change
    /// results (they depend on the shape only), so other tests running meanwhile are unaffected.</summary>
    static LargeShapeOracleTests() => FsrNative.Kernels.Cpu.CpuKernelSettings.ParallelMinWork = 1 << 14;

    static Tolerance T(double atol, double rtol) => new(atol, rtol);

    [Fact]
    public void StridedElementwiseAcrossCores()
    {
        var e = T(1e-6, 1e-5);
        OpCheck.Check("exp(300x257@t)", ["300x257@t"], x => x[0].exp(), x => x[0].exp(), e, e);
        OpCheck.Check("add(301x255@t, 255)", ["301x255@t", "255"], x => x[0].add(x[1]), x => x[0].add(x[1]), e, T(1e-5, 1e-5));
        OpCheck.Check("mul(129x300x2@p, 300x2@n0)", ["129x300x2@p", "300x2@n0"], x => x[0].mul(x[1]), x => x[0].mul(x[1]), e, T(1e-5, 1e-5));
        OpCheck.Check("where(large)", [In.Parse("257x300!").With(Values.Mask()), "257x300@t", "300"], x => torch.where(x[0], x[1], x[2]),
            x => ts.where(x[0].to_type(ts.ScalarType.Bool), x[1], x[2]), T(0, 0), T(1e-5, 1e-5));
        OpCheck.Check("contiguous(large@t)", ["300x257@t"], x => x[0].contiguous(), x => x[0].contiguous(), T(0, 0), T(0, 0));
    }

    [Fact]
    public void LongReductionsAndRows()
    {
        OpCheck.Check("sum(70000)", ["70000"], x => x[0].sum(), x => x[0].sum(), T(1e-3, 1e-4), T(0, 0));
        OpCheck.Check("mean(300x257, 0)", ["300x257@t"], x => x[0].mean(0), x => x[0].mean([0L], false), T(1e-6, 1e-4), T(1e-7, 1e-5));
        OpCheck.Check("var(257x300, 1)", ["257x300"], x => x[0].var(1), x => x[0].var(1, true, false), T(1e-5, 1e-4), T(1e-6, 1e-4));
        OpCheck.Check("amax(257x300, 1)", ["257x300"], x => x[0].amax([1]), x => x[0].amax([1L], false), T(0, 0), T(0, 0));
        OpCheck.Check("softmax(64x1030)", ["64x1030"], x => x[0].softmax(1), x => x[0].softmax(1), T(1e-7, 1e-4), T(1e-7, 1e-4), Values.Normal(0, 3));
        OpCheck.Check("log_softmax(1030x64, 0)", ["1030x64"], x => x[0].log_softmax(0), x => x[0].log_softmax(0), T(1e-5, 1e-5), T(1e-5, 1e-4), Values.Normal(0, 3));
        OpCheck.Check("layer_norm(96x768)", ["96x768", "768", "768"], x => torch.nn.functional.layer_norm(x[0], [768], x[1], x[2]),
            x => F.layer_norm(x[0], [768L], x[1], x[2], 1e-5), T(1e-5, 1e-4), T(1e-4, 1e-3), Values.Normal(0.3f, 1.5f));
    }

    /// <summary>GEMMs crossing the block sizes in every dimension, with transposed and broadcast operands.</summary>
    [Theory]
    [InlineData("150x400", "400x40")]
    [InlineData("150x400@t", "400x40@t")]
    [InlineData("3x50x130", "130x70")]       // folded into one GEMM of 150 rows
    [InlineData("2x1x37x390", "3x390x19")]
    [InlineData("200x17", "17x2100")]        // wide N
    public void LargeMatmul(string a, string b)
    {
        OpCheck.Check("matmul(large)", [a, b], x => x[0].matmul(x[1]), x => x[0].matmul(x[1]), T(1e-4, 1e-4), T(1e-4, 1e-4));
    }
}
