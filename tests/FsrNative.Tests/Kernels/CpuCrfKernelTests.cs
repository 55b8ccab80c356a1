using FsrNative.Kernels;
using FsrNative.Kernels.Cpu.Crf;
using FsrNative.Kernels.Cpu.Reference;
using Xunit;

namespace FsrNative.Tests.Kernels;

/// <summary>
/// The CRF family's CPU kernels against their reference definitions (bit for bit where the arithmetic is the same),
/// and the permutohedral lattice's structure: every point is the barycentric combination of its simplex's vertices,
/// blur neighbours are mutual, the reverse filter is the exact transpose of the forward one.
/// </summary>
[Trait("Category", "Kernels")]
public class CpuCrfKernelTests
{
    static CpuCrfKernelTests() => FsrNative.Kernels.Cpu.CpuKernelSettings.ParallelMinWork = 1 << 12;

    /// <summary>Image-like features: d = 2 (x/σ, y/σ) or d = 5 (plus colours/σ_rgb) of an h×w picture with two regions.</summary>
    internal static float[] ImageFeatures(int h, int w, int d, float sxy, float srgb, int seed)
    {
        var rng = new Random(seed);
        var f = new float[h * w * d];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int p = y * w + x;
                f[p * d] = x / sxy;
                if (d > 1) f[p * d + 1] = y / sxy;
                bool inside = (x - w / 2) * (x - w / 2) + (y - h / 2) * (y - h / 2) < h * w / 6;
                for (int c = 2; c < d; c++) f[p * d + c] = ((inside ? 180f : 60f) + 25f * c + 30f * (float)rng.NextDouble()) / srgb;
            }
        return f;
    }

    public static TheoryData<int, int, int, int, bool, bool> FilterCases() => new()
    {
        // d, points (h·w via features below), channels, seed, reverse, scale
        { 2, 0, 1, 1, false, false },
        { 2, 0, 5, 2, true, false },
        { 5, 0, 21, 3, false, true },
        { 5, 0, 33, 4, true, true },    // more than four vectors per row: two splat passes
        { 3, 1, 8, 5, false, false },   // random features
        { 1, 1, 3, 6, true, true },
        { 8, 1, 2, 7, false, false },
    };

    [Theory, MemberData(nameof(FilterCases))]
    public void LatticeFilter_IsBitIdenticalToReference(int d, int random, int channels, int seed, bool reverse, bool scaled)
    {
        int n = random == 1 ? 777 : 31 * 23;
        var f = random == 1 ? CpuTestData.Uniform(n * d, seed, -3f, 3f) : ImageFeatures(23, 31, d, d == 2 ? 1.5f : 9f, 13f, seed);
        var t = LatticeBuilder.Build<float>(f, n, d);
        var v = CpuTestData.Uniform(channels * n, seed + 100, 0f, 1f);
        var s = scaled ? CpuTestData.Uniform(n, seed + 200, 0.1f, 2f) : null;
        var expected = new float[channels * n];
        var actual = new float[channels * n];
        ReferenceCrf<float>.LatticeFilter(t, v, expected, channels, reverse, s);
        CpuLattice.Filter(t, v, actual, channels, reverse, s);
        CpuTestData.AssertBitwiseEqual(expected, actual, $"lattice filter d={d} K={channels} reverse={reverse} scaled={scaled}");
    }

    [Theory]
    [InlineData(2, 400, 10f)]
    [InlineData(5, 300, 4f)]
    [InlineData(8, 200, 3f)]
    public void Lattice_PointsAreBarycentricCombinationsOfTheirSimplex(int d, int n, float spread)
    {
        var f = Array.ConvertAll(CpuTestData.Uniform(n * d, d * 7 + n, -spread, spread), v => (double)v);
        var t = LatticeBuilder.Build<double>(f, n, d);
        Span<double> elevated = stackalloc double[d + 1];
        for (int p = 0; p < n; p++)
        {
            double sm = 0;
            for (int j = d; j > 0; j--)
            {
                double cf = f[p * d + j - 1] * LatticeMath.Scale(j - 1, d);
                elevated[j] = sm - j * cf;
                sm += cf;
            }
            elevated[0] = sm;
            var rebuilt = new double[d + 1];
            double sum = 0;
            for (int r = 0; r <= d; r++)
            {
                int v = t.Offsets[p * (d + 1) + r];
                double w = t.Weights[p * (d + 1) + r];
                Assert.InRange(w, -1e-12, 1 + 1e-12);
                sum += w;
                double last = 0;
                for (int i = 0; i < d; i++) { rebuilt[i] += w * t.Keys[v * d + i]; last -= t.Keys[v * d + i]; }
                rebuilt[d] += w * last;
            }
            Assert.Equal(1.0, sum, 1e-12);
            for (int i = 0; i <= d; i++) Assert.Equal(elevated[i], rebuilt[i], 1e-9);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(5)]
    public void Lattice_NeighboursAreMutualAndOrderIsStable(int d)
    {
        var f = ImageFeatures(17, 19, d, 2f, 20f, 3);
        int n = 17 * 19, d1 = d + 1;
        var t = LatticeBuilder.Build<float>(f, n, d);
        int m = t.Vertices;
        for (int j = 0; j <= d; j++)
            for (int v = 0; v < m; v++)
            {
                int n1 = t.Neighbours[(j * m + v) * 2], n2 = t.Neighbours[(j * m + v) * 2 + 1];
                if (n1 < m) Assert.Equal(v, t.Neighbours[(j * m + n1) * 2 + 1]);
                if (n2 < m) Assert.Equal(v, t.Neighbours[(j * m + n2) * 2]);
            }
        // Gather lists: every element once, ascending within each vertex, vertex ids in order of first use.
        Assert.Equal(n * d1, t.SegmentStarts[m]);
        var seen = new bool[n * d1];
        for (int v = 0; v < m; v++)
            for (int i = t.SegmentStarts[v]; i < t.SegmentStarts[v + 1]; i++)
            {
                int e = t.Order[i];
                Assert.Equal(v, t.Offsets[e]);
                Assert.False(seen[e]);
                seen[e] = true;
                if (i > t.SegmentStarts[v]) Assert.True(t.Order[i - 1] < e);
            }
        int next = 0;
        foreach (int v in t.Offsets) { Assert.True(v <= next); if (v == next) next++; }
    }

    [Theory]
    [InlineData(2, 3)]
    [InlineData(5, 4)]
    public void LatticeFilter_ReverseIsTheTranspose(int d, int channels)
    {
        var f = Array.ConvertAll(ImageFeatures(13, 11, d, 1.2f, 15f, 9), v => (double)v);
        int n = 13 * 11;
        var t = LatticeBuilder.Build<double>(f, n, d);
        var a = Array.ConvertAll(CpuTestData.Uniform(channels * n, 1, -1f, 1f), v => (double)v);
        var b = Array.ConvertAll(CpuTestData.Uniform(channels * n, 2, -1f, 1f), v => (double)v);
        var s = Array.ConvertAll(CpuTestData.Uniform(n, 3, 0.5f, 1.5f), v => (double)v);
        var lb = new double[channels * n];
        var lta = new double[channels * n];
        ReferenceCrf<double>.LatticeFilter(t, b, lb, channels, false, s);
        ReferenceCrf<double>.LatticeFilter(t, a, lta, channels, true, s);
        double left = 0, right = 0, forwardOnly = 0;
        for (int i = 0; i < a.Length; i++) { left += a[i] * lb[i]; right += lta[i] * b[i]; }
        var la = new double[channels * n];
        ReferenceCrf<double>.LatticeFilter(t, a, la, channels, false, s);
        for (int i = 0; i < a.Length; i++) forwardOnly += la[i] * b[i];
        Assert.Equal(left, right, 1e-9 * Math.Abs(left));
        Assert.True(Math.Abs(forwardOnly - left) > 1e-9 * Math.Abs(left), "the forward filter alone is not symmetric, so the reverse order matters");
    }

    [Fact]
    public void LatticeBuild_RejectsBadFeatures()
    {
        var f = ImageFeatures(4, 5, 2, 1f, 1f, 1);
        f[13] = float.NaN;
        var ex = Assert.Throws<ArgumentException>(() => LatticeBuilder.Build<float>(f, 20, 2));
        Assert.Contains("point 6", ex.Message);
        var big = new float[] { 0f, 0f, 1e5f, 0f };
        Assert.Contains("16-bit key range", Assert.Throws<ArgumentException>(() => LatticeBuilder.Build<float>(big, 2, 2)).Message);
        Assert.Contains("dimension 9", Assert.Throws<ArgumentException>(() => LatticeBuilder.Build<float>(new float[9], 1, 9)).Message);
    }

    [Theory]
    [InlineData(21, 1000, true, true)]
    [InlineData(3, 37, true, false)]
    [InlineData(1, 5, false, false)]
    public void MeanFieldUpdate_MatchesReference(int labels, int points, bool first, bool second)
    {
        var u = CpuTestData.Uniform(labels * points, 1, 0f, 11f);
        var f1 = first ? CpuTestData.Uniform(labels * points, 2, 0f, 1f) : null;
        var f2 = second ? CpuTestData.Uniform(labels * points, 3, 0f, 1f) : null;
        var expected = new float[labels * points];
        var actual = new float[labels * points];
        ReferenceCrf<float>.MeanFieldUpdate(u, f1, 1f, f2, 4f, expected, labels, points);
        CpuCrf.MeanFieldUpdate(u, f1, 1f, f2, 4f, actual, labels, points);
        CpuTestData.AssertClose(expected, actual, 2e-6, 1e-7, $"mean-field update K={labels} N={points}");
    }

    [Theory]
    [InlineData(2, 3, 23, 29, 3)]
    [InlineData(1, 1, 7, 5, 2)]     // an image smaller than the largest dilation: everything clamps
    [InlineData(1, 4, 30, 9, 1)]
    public void Par_IsBitIdenticalToReference(int batch, int channels, int h, int w, int planes)
    {
        var dil = new ParDilations([1, 2, 4, 8, 12, 24]);
        int nb = dil.Neighbours;
        var image = CpuTestData.Uniform(batch * channels * h * w, 5, 0f, 1f);
        var pos = ParMath.PositionWeights(dil);
        var expectedW = new float[batch * nb * h * w];
        var actualW = new float[expectedW.Length];
        ReferenceCrf<float>.ParAffinity(image, pos, expectedW, batch, channels, h, w, dil);
        CpuCrf.ParAffinity(image, pos, actualW, batch, channels, h, w, dil);
        CpuTestData.AssertBitwiseEqual(expectedW, actualW, "par affinity");
        var q = CpuTestData.Uniform(batch * planes * h * w, 6, 0f, 1f);
        var expected = new float[q.Length];
        var actual = new float[q.Length];
        ReferenceCrf<float>.ParPropagate(expectedW, q, expected, batch, planes, h, w, dil);
        CpuCrf.ParPropagate(actualW, q, actual, batch, planes, h, w, dil);
        CpuTestData.AssertBitwiseEqual(expected, actual, "par propagate");
    }

    [Fact]
    public void ParPositionWeights_AreTheSpecsConstants()
    {
        var pos = ParMath.PositionWeights(new ParDilations([1, 2, 4, 8, 12, 24]));
        Assert.Equal(48, pos.Length);
        Assert.Equal(0.01, pos.Sum(), 1e-7);
        // Axial neighbours of dilation 1 are the closest: largest weight; the same for all four.
        Assert.Equal(pos.Max(), pos[1]);
        Assert.Equal(pos[1], pos[3]);
        Assert.Equal(pos[1], pos[6]);
        Assert.True(pos[0] < pos[1] && pos[40] < pos[41]);
    }
}
