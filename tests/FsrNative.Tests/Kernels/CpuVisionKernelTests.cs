using FsrNative.Kernels;
using FsrNative.Kernels.Cpu;
using FsrNative.Kernels.Cpu.Reference;
using Xunit;

namespace FsrNative.Tests.Kernels;

/// <summary>The SIMD/multi-core kernels of the resampling, centering and losses families against their reference
/// definitions: both pass orders of the separable resampling, row-block splits, vector tails, chunk tails.</summary>
[Trait("Category", "Kernels")]
public class CpuVisionKernelTests
{
    static CpuVisionKernelTests() => CpuKernelSettings.ParallelMinWork = 1 << 14;

    public static IEnumerable<object[]> ResampleCases()
    {
        var shapes = new (int planes, int ih, int iw, int oh, int ow)[]
        {
            (3, 5, 7, 9, 11), (2, 9, 11, 4, 5), (1, 28, 28, 448, 448), (8, 14, 14, 28, 28), (1, 1, 1, 3, 9),
            (2, 6, 5, 6, 13), (1, 40, 3, 7, 40), (5, 17, 19, 17, 19), (1, 300, 200, 150, 100),
        };
        foreach (var s in shapes)
            foreach (var mode in Enum.GetValues<ResampleMode>())
                foreach (bool align in new[] { false, true })
                    if (mode != ResampleMode.Nearest || !align)
                        yield return [s.planes, s.ih, s.iw, s.oh, s.ow, mode, align];
    }

    [Theory, MemberData(nameof(ResampleCases))]
    public void Resample_MatchesReference(int planes, int ih, int iw, int oh, int ow, ResampleMode mode, bool align)
    {
        var h = ResampleAxis.Create(ih, oh, align, null);
        var w = ResampleAxis.Create(iw, ow, align, null);
        var x = CpuTestData.Uniform(planes * ih * iw, ih * 31 + ow, -2f, 2f);
        var expected = new float[planes * oh * ow];
        var actual = new float[expected.Length];
        ReferenceResampling<float>.Forward(x, expected, planes, mode, h, w);
        CpuResample.Forward(x, actual, planes, mode, h, w);
        CpuTestData.AssertClose(expected, actual, 1e-5, 2e-6, $"resample {mode} align={align} ({planes},{ih},{iw})→({oh},{ow})");

        var gy = CpuTestData.Uniform(expected.Length, oh * 17 + iw, -1f, 1f);
        var gExpected = new float[x.Length];
        var gActual = new float[x.Length];
        ReferenceResampling<float>.Backward(gy, gExpected, planes, mode, h, w);
        CpuResample.Backward(gy, gActual, planes, mode, h, w);
        CpuTestData.AssertClose(gExpected, gActual, 1e-5, 2e-5, $"resample backward {mode} align={align} ({planes},{ih},{iw})→({oh},{ow})");
    }

    [Theory]
    [InlineData(3, 7, 1)]
    [InlineData(2, 37, 1)]
    [InlineData(2, 5, 3)]
    [InlineData(4, 6, 20)]
    [InlineData(1, 1, 1)]
    public void Flip_MatchesReference(int outer, int n, int inner)
    {
        var x = CpuTestData.Uniform(outer * n * inner, n, -1f, 1f);
        var expected = new float[x.Length];
        var actual = new float[x.Length];
        ReferenceResampling<float>.Flip(x, expected, outer, n, inner);
        CpuResample.Flip(x, actual, outer, n, inner);
        CpuTestData.AssertBitwiseEqual(expected, actual, $"flip ({outer},{n},{inner})");
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(5, 37)]
    [InlineData(3, 8)]
    [InlineData(64, 4096)]
    [InlineData(2, 4097)]
    public void Dino_MatchesReference(int rows, int d)
    {
        var s = CpuTestData.Uniform(rows * d, d, -3f, 3f);
        var t = CpuTestData.Uniform(rows * d, d + 1, -3f, 3f);
        var c = CpuTestData.Uniform(d, d + 2, -0.5f, 0.5f);
        float invTs = 1f / 0.1f, invTt = 1f / 0.04f;
        float[] L(int n) => new float[n];
        var (le, lse_e, lte) = (L(rows), L(rows), L(rows));
        var (la, lsa, lta) = (L(rows), L(rows), L(rows));
        ReferenceCentering<float>.Forward(s, t, c, le, lse_e, lte, rows, d, invTs, invTt);
        CpuDino.Forward(s, t, c, la, lsa, lta, rows, d, invTs, invTt);
        CpuTestData.AssertClose(le, la, 1e-5, 1e-4, "dino loss");
        CpuTestData.AssertClose(lse_e, lsa, 1e-6, 1e-4, "dino lse_s");
        CpuTestData.AssertClose(lte, lta, 1e-6, 1e-4, "dino lse_t");
        var g = CpuTestData.Uniform(rows, 7, -1f, 1f);
        var (gse, gte, gsa, gta) = (L(rows * d), L(rows * d), L(rows * d), L(rows * d));
        ReferenceCentering<float>.Backward(s, t, c, le, lse_e, lte, g, gse, gte, rows, d, invTs, invTt);
        CpuDino.Backward(s, t, c, le, lse_e, lte, g, gsa, gta, rows, d, invTs, invTt);
        CpuTestData.AssertClose(gse, gsa, 1e-5, 1e-5, "dino student gradient");
        CpuTestData.AssertClose(gte, gta, 1e-4, 1e-4, "dino teacher gradient");
    }

    [Theory]
    [InlineData(2, 5, 1, false)]
    [InlineData(2, 5, 3, false)]
    [InlineData(2, 21, 64, true)]
    [InlineData(3, 21, 130, true)]
    [InlineData(1, 3, 1000, false)]
    [InlineData(1, 1, 9, true)]
    public void CrossEntropy_MatchesReference(int outer, int k, int inner, bool mask)
    {
        int n = outer * inner;
        var x = CpuTestData.Uniform(outer * k * inner, k * inner, -4f, 4f);
        var target = TestRandom(n, k);
        var m = mask ? Array.ConvertAll(CpuTestData.Uniform(n, 5, 0f, 1f), v => v < 0.6f ? 1f : 0f) : [];
        float[] L(int len) => new float[len];
        var (loss_e, lse_e, valid_e) = (L(n), L(n), L(n));
        var (loss_a, lse_a, valid_a) = (L(n), L(n), L(n));
        Assert.Equal(-1, ReferenceLosses<float>.CrossEntropy(x, target, m, loss_e, lse_e, valid_e, outer, k, inner, 255));
        Assert.Equal(-1, CpuLosses.CrossEntropy(x, target, m, loss_a, lse_a, valid_a, outer, k, inner, 255));
        CpuTestData.AssertClose(loss_e, loss_a, 1e-5, 1e-5, "cross_entropy loss");
        CpuTestData.AssertClose(lse_e, lse_a, 1e-5, 1e-5, "cross_entropy lse");
        CpuTestData.AssertBitwiseEqual(valid_e, valid_a, "cross_entropy valid");
        foreach (var g in new[] { CpuTestData.Uniform(n, 3, -1f, 1f), [0.25f] })
        {
            var (gx_e, gx_a) = (L(x.Length), L(x.Length));
            ReferenceLosses<float>.CrossEntropyBackward(x, target, m, lse_e, g, gx_e, outer, k, inner, 255);
            CpuLosses.CrossEntropyBackward(x, target, m, lse_e, g, gx_a, outer, k, inner, 255);
            CpuTestData.AssertClose(gx_e, gx_a, 1e-5, 1e-6, $"cross_entropy backward (g of {g.Length})");
        }
        target[n - 1] = k;   // out of range and not ignored
        Assert.Equal(n - 1, CpuLosses.CrossEntropy(x, target, m, loss_a, lse_a, valid_a, outer, k, inner, 255));
    }

    static int[] TestRandom(int n, int k)
    {
        var v = Array.ConvertAll(CpuTestData.Uniform(n, 11, 0f, k), f => Math.Min(k - 1, (int)f));
        for (int i = 2; i < n; i += 7) v[i] = 255;
        return v;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(13)]
    [InlineData(1000)]
    public void BceWithLogits_MatchesReference(int n)
    {
        var x = CpuTestData.Uniform(n, n, -30f, 30f);
        x[0] = 0f;
        var y = CpuTestData.Uniform(n, n + 1, 0f, 1f);
        var g = CpuTestData.Uniform(n, n + 2, -1f, 1f);
        var (le, la, ge, ga) = (new float[n], new float[n], new float[n], new float[n]);
        ReferenceLosses<float>.BceWithLogits(x, y, le);
        CpuLosses.BceWithLogits(x, y, la);
        CpuTestData.AssertClose(le, la, 1e-6, 1e-6, "bce loss");
        ReferenceLosses<float>.BceWithLogitsBackward(x, y, g, ge);
        CpuLosses.BceWithLogitsBackward(x, y, g, ga);
        CpuTestData.AssertClose(ge, ga, 1e-6, 1e-7, "bce gradient");
    }
}
