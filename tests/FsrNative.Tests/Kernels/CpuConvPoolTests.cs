using FsrNative.Kernels;
using FsrNative.Kernels.Cpu;
using Ref = FsrNative.Kernels.Cpu.Reference.ReferenceConvPool<float>;

namespace FsrNative.Tests.Kernels;

/// <summary>
/// The SIMD pooling kernels against the scalar reference over a sweep of random geometries (sizes 1–23, kernels 1–4,
/// strides 1–4, every legal padding, dilations 1–3, ceil mode; values with ties, NaN and −∞): window pools must match
/// bit for bit (same comparisons, same order of additions), global pools within rounding. The im2col + GEMM
/// convolution against the direct reference in all three patch layouts, forward and both gradients.
/// </summary>
[Trait("Category", "Kernels")]
public unsafe class CpuConvPoolTests
{
    static float[] Values(Random rng, int n, int kind)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++)
        {
            a[i] = kind == 1 ? rng.Next(-2, 3) : (float)(rng.NextDouble() * 4 - 2);
            if (kind == 2 && rng.Next(9) == 0) a[i] = float.NaN;
            if (kind == 3 && rng.Next(3) == 0) a[i] = float.NegativeInfinity;
        }
        return a;
    }

    static IEnumerable<Pool2dGeometry> Geometries(Random rng, bool max, int count)
    {
        for (int t = 0; t < count; t++)
        {
            int h = rng.Next(1, 24), w = rng.Next(1, 24), kh = rng.Next(1, 5), kw = rng.Next(1, 5);
            int sh = rng.Next(1, 5), sw = rng.Next(1, 5), ph = rng.Next(0, kh / 2 + 1), pw = rng.Next(0, kw / 2 + 1);
            int dh = max ? rng.Next(1, 4) : 1, dw = max ? rng.Next(1, 4) : 1;
            bool ceil = rng.Next(2) == 0, include = rng.Next(2) == 0;
            int divisor = !max && rng.Next(5) == 0 ? rng.Next(1, 7) : 0;
            Pool2dGeometry g;
            try { g = Pool2dGeometry.Create("test", rng.Next(1, 4), h, w, kh, kw, sh, sw, ph, pw, dh, dw, ceil, include, divisor); }
            catch (ArgumentException) { continue; }   // output too small: not a geometry
            yield return g;
        }
        // Long rows: the vector loops with tails, stride 1, 2 (AVX2 deinterleave) and 3.
        foreach (int s in new[] { 1, 2, 3 })
            yield return Pool2dGeometry.Create("test", 2, 9, 61, 3, 3, s, s, 1, 1, 1, 1, false);
        // Global windows (vector maxima and sums).
        yield return Pool2dGeometry.Create("test", 3, 28, 28, 28, 28, 1, 1, 0, 0, 1, 1, false);
        yield return Pool2dGeometry.Create("test", 3, 3, 5, 3, 5, 1, 1, 0, 0, 1, 1, false);
    }

    [Fact]
    public void MaxPoolMatchesReferenceBitForBit()
    {
        var rng = new Random(11);
        foreach (var g in Geometries(rng, max: true, 300))
            for (int kind = 0; kind < 4; kind++)
            {
                var x = Values(rng, g.Planes * g.H * g.W, kind);
                int outN = g.Planes * g.OH * g.OW;
                var y = new float[outN]; var yr = new float[outN];
                var i = new int[outN]; var ir = new int[outN];
                fixed (float* px = x, py = y) fixed (int* pi = i) CpuPool2d.MaxForward(px, py, pi, g);
                Ref.MaxPool2d(x, yr, ir, g);
                Assert.True(ir.SequenceEqual(i), $"max_pool2d indices differ: {g}, values kind {kind}");
                for (int k = 0; k < outN; k++)
                    Assert.True(BitConverter.SingleToInt32Bits(y[k]) == BitConverter.SingleToInt32Bits(yr[k]) || float.IsNaN(y[k]) && float.IsNaN(yr[k]),
                        $"max_pool2d value {k}: {y[k]} vs {yr[k]}: {g}");

                var gy = Values(rng, outN, 0);
                var gx = new float[x.Length]; var gxr = new float[x.Length];
                fixed (float* pg = gy, pgx = gx) fixed (int* pi = i) CpuPool2d.MaxBackward(pg, pi, pgx, g);
                Ref.MaxPool2dBackward(gy, ir, gxr, g);
                Assert.True(gxr.SequenceEqual(gx), $"max_pool2d backward differs: {g}");
            }
    }

    [Fact]
    public void AvgPoolMatchesReference()
    {
        var rng = new Random(12);
        var geometries = Geometries(rng, max: false, 300).ToList();
        foreach (var (oh, ow) in new[] { (3, 4), (4, 3), (5, 7), (1, 1), (2, 2), (9, 11) })
            geometries.Add(Pool2dGeometry.CreateAdaptive("test", 2, 8, 6 + ow % 3, oh, ow));
        foreach (var g in geometries)
        {
            var x = Values(rng, g.Planes * g.H * g.W, 0);
            int outN = g.Planes * g.OH * g.OW;
            var y = new float[outN]; var yr = new float[outN];
            fixed (float* px = x, py = y) CpuPool2d.AvgForward(px, py, g);
            Ref.AvgPool2d(x, yr, g);
            if (g.IsGlobal) CpuTestData.AssertClose(yr, y, 1e-5, 1e-6, $"global avg_pool2d: {g}");
            else Assert.True(yr.SequenceEqual(y), $"avg_pool2d differs from the reference: {g}");

            var gy = Values(rng, outN, 0);
            var gx = new float[x.Length]; var gxr = new float[x.Length];
            fixed (float* pg = gy, pgx = gx) CpuPool2d.AvgBackward(pg, pgx, g);
            Ref.AvgPool2dBackward(gy, gxr, g);
            Assert.True(gxr.SequenceEqual(gx), $"avg_pool2d backward differs: {g}");
        }
    }

    [Theory]
    [InlineData(2, 3, 7, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1)]      // columns layout
    [InlineData(2, 4, 11, 10, 3, 3, 3, 1, 1, 5, 5, 5, 5)]    // dilated (LargeFOV)
    [InlineData(2, 3, 19, 17, 5, 4, 4, 4, 4, 0, 0, 1, 1)]    // rows layout, patch embedding
    [InlineData(2, 3, 9, 10, 4, 2, 3, 2, 3, 1, 1, 2, 1)]     // rows layout, dilation along H
    [InlineData(3, 6, 5, 7, 4, 1, 1, 1, 1, 0, 0, 1, 1)]      // pointwise
    public void Conv2dMatchesReference(int n, int c, int h, int w, int o, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw)
    {
        var g = Conv2dGeometry.Create(n, c, h, w, o, kh, kw, sh, sw, ph, pw, dh, dw);
        var rng = new Random(13);
        var x = Values(rng, n * c * h * w, 0);
        var wt = Values(rng, o * c * kh * kw, 0);
        var b = Values(rng, o, 0);
        var gy = Values(rng, n * o * g.OutPlane, 0);
        var yr = new float[gy.Length]; var gxr = new float[x.Length]; var gwr = new float[wt.Length];
        Ref.Conv2d(x, wt, b, yr, g);
        Ref.Conv2dBackwardInput(gy, wt, gxr, g);
        Ref.Conv2dBackwardWeight(x, gy, gwr, g);
        string layout = CpuConv2d.LayoutOf(g).ToString();
        // The whole batch in one chunk, then one image per chunk: the same bits either way, except for the forward in
        // the rows layout (one GEMM per chunk: its shape, hence possibly its summation path, changes).
        float[]? first = null;
        foreach (long length in new[] { CpuConv2d.ScratchLength(g), CpuConv2d.ScratchPerImage(g) })
        {
            var scratch = new float[Math.Max(1, length)];
            var y = new float[gy.Length]; var gx = new float[x.Length]; var gw = new float[wt.Length];
            fixed (float* px = x, pw_ = wt, pb = b, pgy = gy, ps = scratch, py = y, pgx = gx, pgw = gw)
            {
                CpuConv2d.Forward(px, pw_, pb, py, g, ps, length);
                CpuConv2d.BackwardInput(pgy, pw_, pgx, g, ps, length);
                CpuConv2d.BackwardWeight(px, pgy, pgw, g, ps, length);
            }
            CpuTestData.AssertClose(yr, y, 1e-5, 1e-4, $"conv2d forward ({layout}, scratch {length})");
            CpuTestData.AssertClose(gxr, gx, 1e-5, 1e-4, $"conv2d input gradient ({layout}, scratch {length})");
            CpuTestData.AssertClose(gwr, gw, 1e-5, 1e-4, $"conv2d weight gradient ({layout}, scratch {length})");
            var bits = (CpuConv2d.LayoutOf(g) == CpuConv2d.PatchLayout.Rows ? [] : y).Concat(gx).Concat(gw).ToArray();
            if (first is null) first = bits;
            else Assert.True(first.SequenceEqual(bits), $"conv2d ({layout}): results depend on the chunking");
        }
    }
}
