using FsrNative.Crf;
using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Gradcheck;

/// <summary>
/// The lattice filter's backward (the reverse-order filter: its exact transpose) and the differentiable bilateral
/// filter against central finite differences in float64 (the CPU backend's reference lattice), default options.
/// PAR and the dense CRF have no backward (they reject inputs that require grad); the dense-energy loss's gradient is
/// the reference's −2·weight·R/B rather than the derivative of its value, and is checked against that formula in the
/// oracle tests.
/// </summary>
[Trait(Categories.Trait, Categories.Gradcheck)]
public class CrfGradcheckTests
{
    [Theory]
    [InlineData(2, 3, false, false)]
    [InlineData(2, 1, true, true)]
    [InlineData(5, 2, false, true)]
    [InlineData(5, 4, true, false)]
    public void LatticeFilter(int d, int channels, bool reverse, bool scaled)
    {
        int n = 35;
        var f = TestRandom.UniformDouble(TestRandom.SeedFor("lattice gradcheck", d), n * d, 0, 3);
        using var features = torch.tensor((ReadOnlySpan<double>)f, [n, d]);
        using var lattice = Permutohedral.Build(features);
        using var scale = torch.tensor((ReadOnlySpan<double>)TestRandom.UniformDouble(7, n, 0.5, 1.5), [n]);
        GC.Check($"lattice_filter(d={d}, K={channels}, reverse={reverse}, scaled={scaled})", [$"{channels}x5x7"],
            x => Permutohedral.Filter(lattice, x[0], reverse, scaled ? scale : null));
    }

    [Fact]
    public void LatticeFilterOfAView()
        => LatticeFilterOf("lattice_filter(@t)", "7x5@t", 5);

    static void LatticeFilterOf(string what, In values, int points)
    {
        var f = TestRandom.UniformDouble(3, points * 2, 0, 2);
        using var features = torch.tensor((ReadOnlySpan<double>)f, [points, 2]);
        using var lattice = Permutohedral.Build(features);
        GC.Check(what, [values], x => Permutohedral.Filter(lattice, x[0].reshape(x[0].size(0), -1)));
    }

    [Fact]
    public void BilateralFilter()
    {
        var images = new In { Shape = [2, 3, 4, 5], Grad = false, Values = Values.Uniform(0, 255) };
        GC.Check("bilateral_filter", [images, "2x3x4x5"], x => Bilateral.Filter(x[0], x[1], 3f, 40f));
    }
}
