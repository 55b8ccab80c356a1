using System.Globalization;
using System.Runtime.Intrinsics;
using FsrNative.Kernels;
using FsrNative.Kernels.Cpu;
using Xunit;

namespace FsrNative.Tests.Kernels;

/// <summary>Shared data and comparisons for the CPU kernel tests (self-contained: no TorchSharp, no other helpers).</summary>
internal static class CpuTestData
{
    /// <summary>Tests split work over cores from 16K elements on (the default is 256K), so that every length of 16K and
    /// more — 100003 in particular — runs the threaded paths. Only speed depends on this setting, never a result.</summary>
    static CpuTestData() => CpuKernelSettings.ParallelMinWork = 1 << 14;

    /// <summary>The lengths every elementwise family is tried at: empty, below/at/above one vector, odd, and one
    /// above the threading threshold.</summary>
    public static readonly int[] Lengths = [0, 1, 7, 8, 9, 33, 1000, 100003];

    public static IEnumerable<object[]> LengthData() => Lengths.Select(n => new object[] { n });

    public static float[] Uniform(int n, int seed, float lo = -4f, float hi = 4f)
    {
        var rng = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = lo + (hi - lo) * (float)rng.NextDouble();
        return a;
    }

    /// <summary>|actual − expected| ≤ atol + rtol·|expected| elementwise; NaN only against NaN, ±∞ only against the same.</summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double rtol, double atol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        int bad = 0, first = -1;
        double maxAbs = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            float e = expected[i], a = actual[i];
            bool ok;
            if (float.IsNaN(e) || float.IsNaN(a)) ok = float.IsNaN(e) && float.IsNaN(a);
            else if (float.IsInfinity(e) || float.IsInfinity(a)) ok = e == a;
            else
            {
                double d = Math.Abs((double)a - e);
                maxAbs = Math.Max(maxAbs, d);
                ok = d <= atol + rtol * Math.Abs(e);
            }
            if (!ok) { bad++; if (first < 0) first = i; }
        }
        if (bad > 0)
            Assert.Fail(string.Create(CultureInfo.InvariantCulture,
                $"{what}: {bad}/{expected.Length} mismatches (rtol {rtol:G3}, atol {atol:G3}); first at {first}: expected {expected[first]:R}, actual {actual[first]:R}; max abs diff {maxAbs:G4}"));
    }

    public static void AssertBitwiseEqual(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i])
                && !(float.IsNaN(expected[i]) && float.IsNaN(actual[i])))
                Assert.Fail($"{what}: differs at {i}: {expected[i]:R} vs {actual[i]:R}");
    }

    /// <summary>erf in double to ~1e-16: 2/√π·e^{−x²}·Σ 2ⁿx^{2n+1}/(1·3·…·(2n+1)), all terms positive.</summary>
    public static double ErfExact(double x)
    {
        double ax = Math.Abs(x);
        if (double.IsNaN(x)) return double.NaN;
        if (ax > 6) return Math.Sign(x);
        double term = ax, sum = ax, x2 = 2 * ax * ax;
        for (int n = 1; n < 500; n++)
        {
            term *= x2 / (2 * n + 1);
            sum += term;
            if (term < sum * 1e-18) break;
        }
        return Math.Sign(x) * 2 / Math.Sqrt(Math.PI) * Math.Exp(-ax * ax) * sum;
    }

    public static double Ulp(float reference) => Math.Abs((double)MathF.BitIncrement(MathF.Abs(reference)) - MathF.Abs(reference));
}

/// <summary>ScalarMath and CpuVecMath: accuracy against double precision, special values, gradient conventions.</summary>
[Trait("Category", "Kernels")]
public class CpuKernelTests
{
    static IEnumerable<float> ErfSamples()
    {
        var rng = new Random(7);
        for (int i = 0; i < 200_000; i++) yield return (float)(rng.NextDouble() * 12 - 6);
        for (int i = 0; i < 100_000; i++) yield return BitConverter.Int32BitsToSingle(rng.Next(0x20000000, 0x40C00000)) * (i % 2 == 0 ? 1 : -1);
        for (int k = -64; k <= 64; k++) yield return MathF.BitIncrement(ScalarMath.ErfSplit) + k * 1e-7f;
        yield return 0f; yield return -0f; yield return 4f; yield return 3.9999998f; yield return 1e-30f; yield return float.Epsilon;
    }

    [Fact]
    public void ScalarErf_MaxAbsError_Below2e7_And_About1Ulp()
    {
        double maxAbs = 0, maxUlp = 0;
        foreach (var x in ErfSamples())
        {
            double r = CpuTestData.ErfExact(x);
            float y = ScalarMath.Erf(x);
            double ae = Math.Abs(y - r);
            maxAbs = Math.Max(maxAbs, ae);
            maxUlp = Math.Max(maxUlp, ae / CpuTestData.Ulp((float)r));
        }
        Assert.True(maxAbs <= 2e-7, $"max abs error {maxAbs:G4}");
        Assert.True(maxUlp <= 1.5, $"max ulp error {maxUlp:G4}"); // measured 1.13
        Assert.Equal(1f, ScalarMath.Erf(float.PositiveInfinity));
        Assert.Equal(-1f, ScalarMath.Erf(float.NegativeInfinity));
        Assert.True(float.IsNaN(ScalarMath.Erf(float.NaN)));
    }

    [Fact]
    public void VectorErf_MatchesScalarErf()
    {
        if (!CpuVecMath.IsSupported) return; // no AVX2/FMA: the kernels run their scalar references
        var xs = ErfSamples().Concat([float.PositiveInfinity, float.NegativeInfinity, float.NaN]).ToArray();
        double maxAbs = 0;
        for (int i = 0; i + 8 <= xs.Length; i += 8)
        {
            var v = CpuVecMath.Erf(Vector256.Create(xs, i));
            for (int k = 0; k < 8; k++)
            {
                float s = ScalarMath.Erf(xs[i + k]), f = v.GetElement(k);
                if (float.IsNaN(s)) { Assert.True(float.IsNaN(f)); continue; }
                maxAbs = Math.Max(maxAbs, Math.Abs(s - f));
                Assert.True(Math.Abs(f - CpuTestData.ErfExact(xs[i + k])) <= 2e-7, $"erf({xs[i + k]:R}) = {f:R}");
            }
        }
        Assert.True(maxAbs <= 1.2e-7, $"vector vs scalar erf: {maxAbs:G4}");
    }

    [Fact]
    public void VectorExp_Within1Ulp_AndSpecialValues()
    {
        if (!CpuVecMath.IsSupported) return; // no AVX2/FMA: the kernels run their scalar references
        var rng = new Random(3);
        double maxUlp = 0;
        for (int i = 0; i < 50_000; i++)
        {
            var xs = new float[8];
            for (int k = 0; k < 8; k++) xs[k] = (float)(rng.NextDouble() * 192 - 103);
            var v = CpuVecMath.Exp(Vector256.Create(xs));
            var vn = CpuVecMath.ExpNonPositive(Vector256.Create(xs.Select(MathF.Abs).Select(a => -a).ToArray()));
            for (int k = 0; k < 8; k++)
            {
                double r = Math.Exp(xs[k]);
                if (r > float.MaxValue) { Assert.Equal(float.PositiveInfinity, v.GetElement(k)); continue; }
                if (r >= 1.1754944e-38) maxUlp = Math.Max(maxUlp, Math.Abs(v.GetElement(k) - r) / CpuTestData.Ulp((float)r));
                else Assert.True(Math.Abs(v.GetElement(k) - r) <= 2e-45, $"subnormal exp({xs[k]:R})");
                double rn = Math.Exp(-Math.Abs(xs[k]));
                if (rn >= 1.1754944e-38) maxUlp = Math.Max(maxUlp, Math.Abs(vn.GetElement(k) - rn) / CpuTestData.Ulp((float)rn));
                else Assert.True(vn.GetElement(k) <= 1.2e-38f);
            }
        }
        Assert.True(maxUlp <= 1.5, $"exp max ulp error {maxUlp:G4}");
        var sp = CpuVecMath.Exp(Vector256.Create(float.NegativeInfinity, float.PositiveInfinity, float.NaN, 0f, -0f, 88.7f, -87f, 1f));
        Assert.Equal(0f, sp.GetElement(0));
        Assert.Equal(float.PositiveInfinity, sp.GetElement(1));
        Assert.True(float.IsNaN(sp.GetElement(2)));
        Assert.Equal(1f, sp.GetElement(3));
        Assert.Equal(1f, sp.GetElement(4));
        var spn = CpuVecMath.ExpNonPositive(Vector256.Create(float.NegativeInfinity, float.NaN, 0f, -200f, -87f, -1f, -0f, -1e-10f));
        Assert.Equal(0f, spn.GetElement(0));
        Assert.True(float.IsNaN(spn.GetElement(1)));
        Assert.Equal(1f, spn.GetElement(2));
        Assert.Equal(0f, spn.GetElement(3));
    }

    [Fact]
    public void Gelu_MatchesDoubleFormula()
    {
        var rng = new Random(11);
        for (int i = 0; i < 100_000; i++)
        {
            float x = (float)(rng.NextDouble() * 20 - 10);
            double e = 0.5 * x * (1 + CpuTestData.ErfExact(x / Math.Sqrt(2)));
            // ½x(1 + erf) cancels for x ≪ 0 (as in torch): absolute error ≈ |x|·ulp(1)/2
            Assert.True(Math.Abs(ScalarMath.GeluErf(x) - e) <= 1e-6 * Math.Abs(e) + 4e-7, $"gelu({x:R})");
            double g = 0.5 * (1 + CpuTestData.ErfExact(x / Math.Sqrt(2))) + x * Math.Exp(-0.5 * x * x) / Math.Sqrt(2 * Math.PI);
            Assert.True(Math.Abs(ScalarMath.GeluErfGrad(x) - g) <= 1e-6 * Math.Abs(g) + 2e-7, $"gelu'({x:R})");
            double u = Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x);
            double t = 0.5 * x * (1 + Math.Tanh(u));
            Assert.True(Math.Abs(ScalarMath.GeluTanh(x) - t) <= 1e-6 * Math.Abs(t) + 1e-7, $"gelu_tanh({x:R})");
            double th = Math.Tanh(u);
            double tg = 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * Math.Sqrt(2 / Math.PI) * (1 + 3 * 0.044715 * x * x);
            Assert.True(Math.Abs(ScalarMath.GeluTanhGrad(x) - tg) <= 1e-5 * Math.Abs(tg) + 1e-6, $"gelu_tanh'({x:R})");
        }
    }

    [Fact]
    public void UnaryGrad_BoundaryConventions_MatchTorch()
    {
        float Grad(UnaryOp op, float x, float a = 0, float b = 0) => ScalarMath.UnaryGrad(op, x, ScalarMath.Unary(op, x, a, b), a, b);
        Assert.Equal(0f, Grad(UnaryOp.Relu, 0f));
        Assert.Equal(1f, Grad(UnaryOp.Relu, 1e-30f));
        Assert.Equal(0f, Grad(UnaryOp.Abs, 0f));
        Assert.Equal(-1f, Grad(UnaryOp.Abs, -2f));
        Assert.Equal(float.PositiveInfinity, Grad(UnaryOp.Sqrt, 0f));
        Assert.Equal(1f, Grad(UnaryOp.Clamp, -1f, -1f, 1f));  // torch: (x >= min) & (x <= max)
        Assert.Equal(1f, Grad(UnaryOp.Clamp, 1f, -1f, 1f));
        Assert.Equal(0f, Grad(UnaryOp.Clamp, 1.0000001f, -1f, 1f));
        Assert.Equal(0f, Grad(UnaryOp.Clamp, float.NaN, -1f, 1f));
        Assert.Equal(0f, Grad(UnaryOp.PowScalar, 0f, 0f));    // pow(x, 0)' = 0 even at 0
        Assert.Equal(0f, ScalarMath.UnaryBackward(UnaryOp.PowScalar, 0f, 1f, float.NaN, 0f, 0f));
        Assert.Equal(3f, Grad(UnaryOp.PowScalar, 2f, 1.5f) * 2f / MathF.Sqrt(2f), 5);
        Assert.Equal(0f, Grad(UnaryOp.RPowScalar, 2f, 0f));   // d/dx 0^x = 0 for x >= 0
        // relu and clamp select: a NaN gy stays out of the masked entries, as torch's threshold_backward / where
        Assert.Equal(0f, ScalarMath.UnaryBackward(UnaryOp.Relu, -1f, 0f, float.NaN, 0, 0));
        Assert.Equal(0f, ScalarMath.UnaryBackward(UnaryOp.Clamp, 5f, 1f, float.NaN, -1f, 1f));
        Assert.True(float.IsNaN(ScalarMath.Unary(UnaryOp.Relu, float.NaN, 0, 0)));
        Assert.True(float.IsNaN(ScalarMath.Unary(UnaryOp.Clamp, float.NaN, -1, 1)));
        Assert.Equal(3f, ScalarMath.Unary(UnaryOp.Clamp, 0f, 5f, 3f)); // min > max: torch gives max
    }

    [Fact]
    public void UnaryGrad_AgreesWithFiniteDifferences()
    {
        var ops = new (UnaryOp op, float lo, float hi, float a, float b)[]
        {
            (UnaryOp.Exp, -3, 3, 0, 0), (UnaryOp.Log, 0.1f, 5, 0, 0), (UnaryOp.Sqrt, 0.1f, 5, 0, 0), (UnaryOp.Rsqrt, 0.1f, 5, 0, 0),
            (UnaryOp.Square, -3, 3, 0, 0), (UnaryOp.PowScalar, 0.1f, 3, 1.7f, 0), (UnaryOp.GeluErf, -5, 5, 0, 0),
            (UnaryOp.GeluTanh, -5, 5, 0, 0), (UnaryOp.Sigmoid, -6, 6, 0, 0), (UnaryOp.Tanh, -3, 3, 0, 0),
            (UnaryOp.RDivScalar, 0.5f, 3, 2.5f, 0), (UnaryOp.RPowScalar, -2, 2, 1.7f, 0), (UnaryOp.Affine, -2, 2, 1.5f, 0.3f),
        };
        var rng = new Random(5);
        foreach (var (op, lo, hi, a, b) in ops)
            for (int i = 0; i < 200; i++)
            {
                float x = lo + (hi - lo) * (float)rng.NextDouble();
                float h = 1e-2f * (lo > 0 ? x : MathF.Max(1f, MathF.Abs(x)));
                double fd = ((double)ScalarMath.Unary(op, x + h, a, b) - ScalarMath.Unary(op, x - h, a, b)) / (2 * h);
                float g = ScalarMath.UnaryGrad(op, x, ScalarMath.Unary(op, x, a, b), a, b);
                Assert.True(Math.Abs(g - fd) <= 2e-3 * (1 + Math.Abs(fd)), $"{op}'({x:R}) = {g:R}, finite difference {fd:R}");
            }
    }

    [Fact]
    public void VectorLogTanh_Within1point5Ulp_AndSpecialValues()
    {
        if (!CpuVecMath.IsSupported) return;
        var rng = new Random(13);
        double maxLog = 0, maxTanh = 0;
        var xs = new float[8];
        var ts = new float[8];
        for (int i = 0; i < 50_000; i++)
        {
            for (int k = 0; k < 8; k++)
            {
                xs[k] = (float)Math.Exp(-100 + 187 * rng.NextDouble());
                ts[k] = (float)(rng.NextDouble() * 20 - 10) * (k < 4 ? 0.1f : 1f);
            }
            var l = CpuVecMath.Log(Vector256.Create(xs));
            var t = CpuVecMath.Tanh(Vector256.Create(ts));
            for (int k = 0; k < 8; k++)
            {
                double rl = Math.Log(xs[k]), rt = Math.Tanh(ts[k]);
                maxLog = Math.Max(maxLog, Math.Abs(l.GetElement(k) - rl) / CpuTestData.Ulp((float)rl));
                maxTanh = Math.Max(maxTanh, Math.Abs(t.GetElement(k) - rt) / CpuTestData.Ulp((float)rt));
            }
        }
        Assert.True(maxLog <= 1.5, $"log max ulp {maxLog:G4}");   // measured 0.83
        Assert.True(maxTanh <= 1.5, $"tanh max ulp {maxTanh:G4}"); // measured 1.33
        var sl = CpuVecMath.Log(Vector256.Create(0f, -0f, -1f, float.NaN, float.PositiveInfinity, 1f, 1e-45f, float.NegativeInfinity));
        Assert.Equal(float.NegativeInfinity, sl.GetElement(0));
        Assert.Equal(float.NegativeInfinity, sl.GetElement(1));
        Assert.True(float.IsNaN(sl.GetElement(2)) && float.IsNaN(sl.GetElement(3)) && float.IsNaN(sl.GetElement(7)));
        Assert.Equal(float.PositiveInfinity, sl.GetElement(4));
        Assert.Equal(0f, sl.GetElement(5));
        Assert.Equal(Math.Log((double)1e-45f), sl.GetElement(6), 4);
        var st = CpuVecMath.Tanh(Vector256.Create(0f, -0f, 1e-30f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, 20f, -20f));
        Assert.Equal(0f, st.GetElement(0));
        Assert.True(float.IsNegative(st.GetElement(1)));
        Assert.Equal(1e-30f, st.GetElement(2));
        Assert.True(float.IsNaN(st.GetElement(3)));
        Assert.Equal([1f, -1f, 1f, -1f], new[] { st.GetElement(4), st.GetElement(5), st.GetElement(6), st.GetElement(7) });
    }
}

/// <summary>With streaming stores switched on for outputs of 16 MB and more, the big calls take the non-temporal
/// paths: they must give the same bits as the cached path, which smaller calls on slices of the same data take; a
/// misaligned start checks the head peel. (The setting changes no result, so other tests running meanwhile are
/// unaffected.)</summary>
[Trait("Category", "Kernels")]
public class CpuStreamingStoreTests : IDisposable
{
    readonly long saved = CpuKernelSettings.StreamingStoreMinBytes;

    public CpuStreamingStoreTests() => CpuKernelSettings.StreamingStoreMinBytes = 16L << 20;

    public void Dispose() => CpuKernelSettings.StreamingStoreMinBytes = saved;

    const int Big = (1 << 22) + 37; // > 16 MB of output
    const int Slice = 1 << 20;      // 4 MB: below the streaming threshold

    [Fact]
    public void Elementwise_Streaming_MatchesCached()
    {
        var x = CpuTestData.Uniform(Big + 3, 1);
        var b = CpuTestData.Uniform(Big + 3, 2);
        var big = new float[Big + 3];
        var small = new float[Big + 3];
        CpuUnary.Forward(UnaryOp.GeluErf, x.AsSpan(3), big.AsSpan(1, Big), 0, 0);
        for (int s = 0; s < Big; s += Slice)
        {
            int n = Math.Min(Slice, Big - s);
            CpuUnary.Forward(UnaryOp.GeluErf, x.AsSpan(3 + s, n), small.AsSpan(1 + s, n), 0, 0);
        }
        CpuTestData.AssertBitwiseEqual(small, big, "gelu streaming");
        CpuBinary.Forward(BinaryOp.Add, x.AsSpan(2, Big), b.AsSpan(1, Big), big.AsSpan(0, Big));
        for (int s = 0; s < Big; s += Slice)
        {
            int n = Math.Min(Slice, Big - s);
            CpuBinary.Forward(BinaryOp.Add, x.AsSpan(2 + s, n), b.AsSpan(1 + s, n), small.AsSpan(s, n));
        }
        CpuTestData.AssertBitwiseEqual(small, big, "add streaming");
        CpuUnary.Backward(UnaryOp.GeluErf, x.AsSpan(0, Big), default, b.AsSpan(3, Big), big.AsSpan(2, Big), 0, 0);
        for (int s = 0; s < Big; s += Slice)
        {
            int n = Math.Min(Slice, Big - s);
            CpuUnary.Backward(UnaryOp.GeluErf, x.AsSpan(s, n), default, b.AsSpan(3 + s, n), small.AsSpan(2 + s, n), 0, 0);
        }
        CpuTestData.AssertBitwiseEqual(small, big, "gelu backward streaming");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Softmax_Streaming_MatchesCached(bool log)
    {
        int l = 785, rows = Big / l + 1, part = Slice / l;
        var x = CpuTestData.Uniform(rows * l + 1, 3, -6, 6);
        var big = new float[rows * l + 1];
        var small = new float[rows * l + 1];
        CpuSoftmax.Forward(x.AsSpan(1), big.AsSpan(1), rows, l, 1, log);
        for (int r = 0; r < rows; r += part)
        {
            int n = Math.Min(part, rows - r);
            CpuSoftmax.Forward(x.AsSpan(1 + r * l, n * l), small.AsSpan(1 + r * l, n * l), n, l, 1, log);
        }
        CpuTestData.AssertBitwiseEqual(small, big, "softmax streaming");
        var gx = new float[rows * l];
        var gxs = new float[rows * l];
        CpuSoftmax.Backward(big.AsSpan(1), x.AsSpan(0, rows * l), gx, rows, l, 1, log);
        for (int r = 0; r < rows; r += part)
        {
            int n = Math.Min(part, rows - r);
            CpuSoftmax.Backward(big.AsSpan(1 + r * l, n * l), x.AsSpan(r * l, n * l), gxs.AsSpan(r * l, n * l), n, l, 1, log);
        }
        CpuTestData.AssertBitwiseEqual(gxs, gx, "softmax backward streaming");
    }

    [Fact]
    public void LayerNorm_Streaming_MatchesCached()
    {
        int c = 771, rows = Big / c + 1, part = Slice / c;
        var x = CpuTestData.Uniform(rows * c + 2, 4);
        var gamma = CpuTestData.Uniform(c, 5);
        var beta = CpuTestData.Uniform(c, 6);
        var big = new float[rows * c + 1];
        var small = new float[rows * c + 1];
        CpuLayerNorm.Forward(x.AsSpan(2), gamma, beta, big.AsSpan(1), default, default, rows, c, 1e-5f);
        for (int r = 0; r < rows; r += part)
        {
            int n = Math.Min(part, rows - r);
            CpuLayerNorm.Forward(x.AsSpan(2 + r * c, n * c), gamma, beta, small.AsSpan(1 + r * c, n * c), default, default, n, c, 1e-5f);
        }
        CpuTestData.AssertBitwiseEqual(small, big, "layer_norm streaming");
    }
}

/// <summary>The kernels' worker pool: concurrent and nested callers (which fall back to the .NET thread pool) get the
/// same bits as a lone caller.</summary>
[Trait("Category", "Kernels")]
public class CpuParallelTests
{
    [Fact]
    public void ConcurrentAndNestedCallers_GetTheSameResults()
    {
        int n = 300_007;
        var x = CpuTestData.Uniform(n, 1);
        var expected = new float[n];
        CpuUnary.Forward(UnaryOp.GeluErf, x, expected, 0, 0);
        var rows = new float[n - 7];
        CpuSoftmax.Forward(x.AsSpan(0, n - 7), rows, 300, 1000, 1, false);
        var outs = new float[8][];
        var soft = new float[8][];
        Parallel.For(0, 8, k =>
        {
            outs[k] = new float[n];
            soft[k] = new float[n - 7];
            for (int rep = 0; rep < 3; rep++)
            {
                CpuUnary.Forward(UnaryOp.GeluErf, x, outs[k], 0, 0);
                CpuSoftmax.Forward(x.AsSpan(0, n - 7), soft[k], 300, 1000, 1, false);
            }
        });
        for (int k = 0; k < 8; k++)
        {
            CpuTestData.AssertBitwiseEqual(expected, outs[k], $"gelu, caller {k}");
            CpuTestData.AssertBitwiseEqual(rows, soft[k], $"softmax, caller {k}");
        }
        var sums = new float[4];
        CpuReduce.Reduce(ReduceOp.Sum, x.AsSpan(0, 300_000), 4, 75_000, 1, sums);
        var again = new float[4];
        Parallel.For(0, 4, k => CpuReduce.Reduce(ReduceOp.Sum, x.AsSpan(0, 300_000), 4, 75_000, 1, k == 0 ? again : new float[4]));
        CpuTestData.AssertBitwiseEqual(sums, again, "row sums under concurrency");
    }
}
