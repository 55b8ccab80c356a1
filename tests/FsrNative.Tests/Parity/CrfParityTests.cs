using FsrNative.Crf;
using FsrNative.Tests.Infrastructure;
using static FsrNative.Tests.Parity.ParityHarness;

namespace FsrNative.Tests.Parity;

/// <summary>
/// The CRF family on ILGPU's CPU accelerator against the CPU backend: the sort-based lattice (vertex count, and the
/// filter forward and reversed, with and without the symmetric scale, on image features of d = 2 and 5, random
/// features of d = 3 and 8, and a flat image whose vertices gather thousands of points across many splat chunks), the
/// bilateral filter op with its backward, the dense CRF, the dense-energy loss and PAR.
/// The GPU lattice sums each vertex's points in the same order as the CPU except across splat-chunk boundaries, so
/// results agree to float rounding.
/// </summary>
[Trait(Categories.Trait, Categories.Parity)]
public sealed class CrfParityTests
{
    static float[] Features(string kind, int n, int d)
    {
        var rng = new Random(n * 31 + d);
        var f = new float[n * d];
        int w = kind == "flat" ? 40 : 11;
        for (int p = 0; p < n; p++)
        {
            int x = p % w, y = p / w;
            for (int i = 0; i < d; i++)
                f[p * d + i] = kind switch
                {
                    "random" => 4f * (float)rng.NextDouble(),
                    "flat" => i == 0 ? x / 60f : i == 1 ? y / 60f : 100f / 15f,       // one colour: huge vertex segments
                    _ => i == 0 ? x / 1.5f : i == 1 ? y / 1.5f : ((x > 5 ? 200 : 40) + 20 * (float)rng.NextDouble()) / 13f,
                };
        }
        return f;
    }

    [Theory]
    [InlineData("image", 99, 2, 3)]
    [InlineData("image", 110, 5, 4)]
    [InlineData("random", 60, 3, 2)]
    [InlineData("random", 50, 8, 1)]
    [InlineData("flat", 1600, 5, 2)]
    public void LatticeFilter(string kind, int n, int d, int channels)
    {
        var f = Features(kind, n, d);
        var v = TestRandom.Uniform(TestRandom.SeedFor(kind, d), channels * n, 0f, 1f);
        var s = TestRandom.Uniform(TestRandom.SeedFor(kind, d + 1), n, 0.5f, 1.5f);
        var results = new List<float[]>[2];
        var vertices = new int[2];
        Device[] devices = [Device.CPU, Emu];
        for (int i = 0; i < 2; i++)
        {
            using var scope = torch.NewDisposeScope();
            using var lattice = Permutohedral.Build(On(devices[i], f, n, d));
            vertices[i] = lattice.Vertices;
            var values = On(devices[i], v, channels, n);
            var scale = On(devices[i], s, n);
            results[i] = [
                Permutohedral.Filter(lattice, values).ToArray(),
                Permutohedral.Filter(lattice, values, reverse: true).ToArray(),
                Permutohedral.Filter(lattice, values, scale: scale).ToArray(),
            ];
        }
        Assert.Equal(vertices[0], vertices[1]);
        for (int k = 0; k < results[0].Count; k++)
            Close.AssertClose(results[0][k], results[1][k], Sums, $"lattice filter {kind} d={d} variant {k}");
    }

    [Fact]
    public void BilateralFilterWithBackward()
        => Check("bilateral_filter", xs => Bilateral.Filter(xs[0], xs[1], 4f, 30f), Sums,
            new In([2, 3, 7, 9], 0f, 255f, Grad: false), new In([2, 4, 7, 9], 0f, 1f));

    [Fact]
    public void DenseEnergyLoss()
        => Check("dense_energy_loss", xs => DenseEnergy.Loss(xs[0], xs[1].softmax(1), xs[2], sigmaXy: 6f), new Tolerance(1e-9, 1e-4),
            new In([2, 3, 8, 9], 0f, 255f, Grad: false), new In([2, 3, 8, 9], -2f, 2f), new In([2, 8, 9], 0f, 3f, Grad: false, Integers: true));

    [Fact]
    public void DenseCrf()
        => Check("dense_crf", xs =>
        {
            using var _ = torch.no_grad();
            return FsrNative.Crf.DenseCrf.Infer(xs[0], xs[1].softmax(0), new DenseCrfParams { GaussianSigma = 1.5f, BilateralSigmaXy = 8f, BilateralSigmaRgb = 20f });
        }, new Tolerance(1e-5, 1e-4), new In([3, 10, 12], 0f, 255f, Grad: false), new In([3, 10, 12], -2f, 2f, Grad: false));

    [Fact]
    public void Par()
        => Check("par", xs =>
        {
            using var _ = torch.no_grad();
            return FsrNative.Crf.Par.Refine(xs[0], xs[1]);
        }, Sums, new In([2, 3, 13, 11], 0f, 1f, Grad: false), new In([2, 3, 13, 11], 0f, 1f, Grad: false));
}
